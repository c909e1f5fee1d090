"""What a person reads names their file and line: warnings (shown, recorded, through a
program's own showwarning), logging records (%(pathname)s:%(lineno)d %(funcName)s, and
logging.exception), traceback.format_exc/print_exc/format_stack, chained exceptions, and the
traceback of an exception that ends a thread or the program (without daifu's frames). The
test compares stdout and stderr with the file paths made relative."""
import contextlib
import logging
import sys
import threading
import traceback
import warnings

logging.basicConfig(stream=sys.stdout, format="%(pathname)s:%(lineno)d %(funcName)s %(message)s")
log = logging.getLogger("probe")
warnings.simplefilter("always")


def fail(x):
    return 1 / x


def deprecated():
    warnings.warn("deprecated helper", DeprecationWarning, stacklevel=2)


def steps(n):
    for i in range(n):
        warnings.warn(f"root {i}")
        log.warning("root %d", i)
        deprecated()
        with contextlib.nullcontext():
            warnings.warn(f"cell {i}")
            log.warning("cell %d", i)
            print("".join(traceback.format_stack(limit=2)), end="")
            try:
                fail(0)
            except ZeroDivisionError:
                print(traceback.format_exc())
                log.exception("handled")
    with warnings.catch_warnings(record=True) as caught:
        warnings.warn("recorded")
    for w in caught:
        print("recorded at", w.filename, w.lineno)


def own_showwarning(message, category, filename, lineno, file=None, line=None):
    print("own showwarning:", filename, lineno, message)


def multiline(values):
    for v in values:
        try:
            total = sum(
                [1 / v]
            )
        except ZeroDivisionError:
            traceback.print_exc(file=sys.stdout)
        for w in [
            v,
        ]:
            log.warning(
                "multi %s",
                w,
            )
    return total


def crash(n):
    for i in range(n):
        with contextlib.nullcontext():
            try:
                fail(i - 1)
            except ZeroDivisionError as error:
                raise ValueError("bad step") from error


steps(1)
try:
    multiline([0])
except UnboundLocalError:
    traceback.print_exc(file=sys.stdout)
worker = threading.Thread(target=crash, args=(2,), name="worker")
worker.start()
worker.join()
shown = warnings.showwarning
warnings.showwarning = own_showwarning
for k in range(1):
    warnings.warn("script")
    log.warning("script")
warnings.showwarning = shown
crash(2)
