"""try/except/else/finally in many combinations, with return/break/continue in every part."""
import sys


class Oops(Exception):
    pass


def body_return(flag, log):
    try:
        log.append("try")
        if flag:
            return "from try"
    except Oops:
        log.append("never")
    else:
        log.append("else")
        return "from else"
    finally:
        log.append("finally")
    return "unreached"


def handler_return(value, log):
    try:
        log.append("try")
        if value == 0:
            raise Oops("zero")
        if value == 1:
            raise KeyError(value)
    except Oops as exc:
        log.append(f"handler {exc}")
        return "from handler"
    except KeyError:
        log.append("key handler")
    else:
        log.append("else")
    finally:
        log.append("finally")
    return f"after try {value}"


def finally_sees_locals(log):
    result = None
    try:
        result = "set in try"
        raise Oops("x")
    except Oops:
        result += " / handler"
    finally:
        log.append(result)
        result = "finally rebinding"
    return result


def loop_control(items):
    log = []
    for item in items:
        try:
            if item == "err":
                raise Oops(item)
            if item == "brk":
                break
            log.append(item)
        except Oops:
            log.append("handled")
            continue
        else:
            if item == "cont":
                continue
            log.append("else " + item)
        finally:
            log.append("finally " + item)
        log.append("tail " + item)
    return log


def while_handler_break():
    n = 0
    log = []
    while True:
        n += 1
        try:
            if n == 3:
                raise Oops("three")
        except Oops:
            break
        finally:
            log.append(n)
    return log


def nested(depth):
    log = []
    try:
        try:
            try:
                if depth == 0:
                    raise Oops("deep")
                log.append("no raise")
            finally:
                log.append("inner finally")
        except KeyError:
            log.append("wrong handler")
        finally:
            log.append("middle finally")
    except Oops as exc:
        log.append(f"outer caught {exc}")
    else:
        log.append("outer else")
    finally:
        log.append("outer finally")
    return log


def exc_info_everywhere():
    log = []
    try:
        raise Oops("info")
    except Oops:
        log.append(sys.exc_info()[0].__name__)
        try:
            raise KeyError("nested")
        except KeyError as inner:
            log.append(repr(inner.__context__))
        log.append(sys.exc_info()[0].__name__)
    finally:
        log.append(sys.exc_info()[0])
    log.append(sys.exc_info()[0])
    return log


def finally_while_propagating():
    log = []
    try:
        try:
            raise Oops("propagates")
        finally:
            log.append(("in finally", sys.exc_info()[0].__name__))
    except Oops as exc:
        log.append(str(exc))
    return log


def exception_variable_cleared():
    try:
        raise Oops("gone")
    except Oops as err:
        kept = err
    finally:
        pass
    try:
        err
    except NameError as missing:
        return f"err unbound ({type(missing).__name__}), kept={kept}"
    return "err still bound"


def return_value_evaluated_before_finally(log):
    x = 1
    try:
        return x
    finally:
        x = 2
        log.append(x)


def try_without_finally(values):
    out = []
    for v in values:
        try:
            out.append(1 / v)
        except ZeroDivisionError:
            out.append("inf")
            continue
        except TypeError as exc:
            out.append(type(exc).__name__)
            break
        else:
            out.append("ok")
    return out


log = []
print(body_return(True, log), body_return(False, log), log)
log = []
print([handler_return(v, log) for v in (0, 1, 2)], log)
log = []
print(finally_sees_locals(log), log)
print(loop_control(["a", "err", "cont", "b", "brk", "c"]))
print(while_handler_break())
print(nested(0))
print(nested(1))
print(exc_info_everywhere())
print(finally_while_propagating())
print(exception_variable_cleared())
log = []
print(return_value_evaluated_before_finally(log), log)
print(try_without_finally([1, 0, 2, None, 4]))

for attempt in range(3):
    try:
        if attempt < 2:
            raise Oops(f"attempt {attempt}")
    except Oops as exc:
        print("retry after", exc)
        continue
    else:
        print("succeeded at", attempt)
        break
    finally:
        print("finally", attempt)
