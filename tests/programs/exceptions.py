"""try/except/else/finally with the program's own handlers, raise, re-raise, assert."""


class Custom(Exception):
    pass


def handled(values):
    out = []
    for v in values:
        try:
            out.append(10 // v)
        except ZeroDivisionError as exc:
            out.append(f"zero: {exc}")
        except TypeError:
            out.append("type")
        else:
            out.append("ok")
        finally:
            out.append("finally")
    return out


def reraise(v):
    try:
        try:
            raise Custom(v)
        except Custom as exc:
            if v > 1:
                raise
            raise ValueError("wrapped") from exc
    except Custom as outer:
        return f"custom {outer}"
    except ValueError as err:
        return f"value {err} from {type(err.__cause__).__name__}"


def finally_order(log):
    for i in range(3):
        try:
            if i == 1:
                continue
            log.append(f"body {i}")
            if i == 2:
                return "returned"
        finally:
            log.append(f"finally {i}")
    return "end"


def asserting(x):
    try:
        assert x > 0, f"bad {x}"
        return "fine"
    except AssertionError as exc:
        return str(exc)


def propagate(depth):
    if depth == 0:
        raise KeyError("deep")
    for _ in range(1):
        return propagate(depth - 1)


def caller():
    try:
        propagate(3)
    except KeyError as exc:
        return f"caught {exc!r} through vaccinated frames"


def deleting():
    items = {"a": 1, "b": 2}
    for key in list(items):
        del items[key]
        value = key
    del value
    try:
        print(value)
    except UnboundLocalError:
        return "unbound after del"


print(handled([1, 0, "x", 5]))
print(reraise(1), reraise(2))
log = []
print(finally_order(log), log)
print(asserting(1), asserting(-1))
print(caller())
print(deleting())
for i in range(2):
    try:
        {}["missing"]
    except KeyError:
        print("script-level handler", i)
raise Custom("final uncaught error")
