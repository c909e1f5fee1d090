"""A handled exception that crossed vaccinated functions must not keep the caller's variables
alive: deciding whether the caller handles it must not leave a snapshot of its locals on its
frame (reading frame.f_locals does that before Python 3.13). CPython's test_exceptions
(testExceptionCleanupState) found it."""
import contextlib
import gc
import weakref


class MyException(Exception):
    def __init__(self, obj):
        self.obj = obj


class MyObj:
    pass


def inner_raising_func(obj):
    local_ref = obj
    raise MyException(obj)


def caught_by_type():
    obj = MyObj()
    wr = weakref.ref(obj)
    try:
        inner_raising_func(obj)
    except MyException:
        pass
    obj = None
    gc.collect()
    return wr() is None


def suppressed_by_with():
    obj = MyObj()
    wr = weakref.ref(obj)
    with contextlib.suppress(MyException):
        inner_raising_func(obj)
    obj = None
    gc.collect()
    return wr() is None


print("released after except:", caught_by_type())
print("released after suppress:", suppressed_by_with())
