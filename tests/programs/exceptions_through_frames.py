"""Exceptions raised in vaccinated functions, passing through C and library frames (map,
sorted, functools, json, re, threading) to handlers of the caller; raise from; bare raise."""
import functools
import json
import re
import threading


class AppError(Exception):
    def __init__(self, code):
        super().__init__(f"code {code}")
        self.code = code


def check(x):
    for limit in (10,):
        if x > limit:
            raise AppError(x)
    return x * 2


def through_map(values):
    try:
        return list(map(check, values))
    except AppError as exc:
        return f"map stopped: {exc} ({exc.code})"


def through_sorted(values):
    def key(v):
        for _ in range(1):
            if v is None:
                raise TypeError("None has no order")
        return -v

    try:
        return sorted(values, key=key)
    except TypeError as exc:
        return f"sorted: {exc}"


def through_reduce(values):
    def add(a, b):
        while b < 0:
            raise ValueError(f"negative {b}")
        return a + b

    try:
        return functools.reduce(add, values, 0)
    except ValueError as exc:
        return str(exc)


def through_json(text):
    def hook(obj):
        for key in obj:
            if key.startswith("_"):
                raise KeyError(key)
        return obj

    try:
        return json.loads(text, object_hook=hook)
    except KeyError as exc:
        return f"json hook refused {exc}"


def through_re(text):
    def repl(match):
        for ch in match.group(0):
            if ch == "9":
                raise LookupError("nine")
        return str(int(match.group(0)) + 1)

    try:
        return re.sub(r"\d+", repl, text)
    except LookupError as exc:
        return f"re: {exc}"


def through_thread(n):
    results = {}

    def worker(i):
        try:
            for j in range(i):
                if j == 3:
                    raise AppError(i)
            results[i] = "ok"
        except AppError as exc:
            results[i] = str(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sorted(results.items())


def raise_from(value):
    try:
        try:
            int(value)
        except ValueError as exc:
            raise AppError(7) from exc
    except AppError as err:
        return f"{err} caused by {type(err.__cause__).__name__}, suppress={err.__suppress_context__}"
    return "no error"


def raise_from_none():
    try:
        try:
            {}["missing"]
        except KeyError:
            raise AppError(8) from None
    except AppError as err:
        return err.__cause__, err.__suppress_context__, repr(err.__context__)


def bare_reraise(levels):
    log = []

    def inner():
        for _ in range(1):
            try:
                raise AppError(levels)
            except AppError:
                log.append("inner saw it")
                raise

    def middle():
        try:
            inner()
        except AppError as exc:
            log.append(f"middle saw {exc}")
            raise

    try:
        middle()
    except AppError as exc:
        log.append(f"outer handled {exc.code}")
    return log


def handler_in_caller_of_caller():
    def level3():
        for _ in range(1):
            return 1 / 0

    def level2():
        return [level3() for _ in range(1)]

    def level1():
        try:
            return level2()
        except ArithmeticError as exc:
            return f"level1 caught {type(exc).__name__}"

    return level1()


def assert_errors(values):
    out = []
    for v in values:
        try:
            assert v > 0, f"not positive: {v}"
            out.append(v)
        except AssertionError as exc:
            out.append(str(exc))
    return out


def generator_caller():
    def producer():
        for i in range(5):
            if i == 3:
                raise AppError(i)
            yield i

    got = []
    try:
        for v in producer():
            got.append(v)
    except AppError as exc:
        got.append(str(exc))
    return got


print(through_map([1, 2, 3]), through_map([1, 20, 3]))
print(through_sorted([3, 1, 2]), through_sorted([3, None]))
print(through_reduce([1, 2, 3]), through_reduce([1, -2]))
print(through_json('{"a": {"b": 1}}'), through_json('{"a": {"_b": 1}}'))
print(through_re("a1 b22"), through_re("a1 b9"))
print(through_thread(6))
print(raise_from("x"), raise_from("5"))
print(raise_from_none())
print(bare_reraise(3))
print(handler_in_caller_of_caller())
print(assert_errors([1, -1, 2, 0]))
print(generator_caller())
for v in [1, 5, 50]:
    print(check(v))
