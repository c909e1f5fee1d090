"""Bare `raise` and sys.exc_info() inside handler, else and finally parts of a try that has
a finally (each part runs as a cell), and the exception chain (__context__) they build."""
import sys


def bare_raise_in_handler(log):
    try:
        try:
            raise KeyError("inner")
        except KeyError:
            log.append(("handler sees", sys.exc_info()[0].__name__))
            raise
        finally:
            log.append(("finally sees", sys.exc_info()[0].__name__))
    except KeyError as exc:
        log.append(("outer caught", exc.args))
    return log


def raise_in_finally_during_propagation(log):
    try:
        try:
            raise ValueError("propagating")
        finally:
            log.append(sys.exc_info()[1])
            try:
                raise
            except ValueError as again:
                log.append(("re-raised in finally", again.args))
    except ValueError as exc:
        log.append(("outer", exc.args))
    return log


def new_exception_in_handler(log):
    try:
        try:
            raise KeyError("first")
        except KeyError:
            raise ValueError("second")
        finally:
            log.append("finally ran")
    except ValueError as exc:
        log.append((repr(exc), repr(exc.__context__), exc.__suppress_context__))
    return log


def else_and_finally_state(log):
    try:
        log.append(sys.exc_info())
    except Exception:
        pass
    else:
        log.append(("else", sys.exc_info()))
    finally:
        log.append(("finally", sys.exc_info()))
    try:
        raise
    except RuntimeError as exc:
        log.append(("no active exception", str(exc)))
    return log


def handler_in_loop_with_finally(values):
    out = []
    for v in values:
        try:
            out.append(10 // v)
        except ZeroDivisionError as exc:
            out.append(type(exc).__name__)
            if v is None:
                break
        except TypeError:
            out.append("type")
            try:
                raise
            except TypeError as again:
                out.append(("reraised", type(again).__name__))
                continue
        finally:
            out.append(("finally", v, sys.exc_info()[0] and sys.exc_info()[0].__name__))
    return out


print(bare_raise_in_handler([]))
print(raise_in_finally_during_propagation([]))
print(new_exception_in_handler([]))
print(else_and_finally_state([]))
print(handler_in_loop_with_finally([5, 0, None, 2]))
