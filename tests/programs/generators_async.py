"""Generators, yield from, generator-based context managers, async def and async with/for:
daifu leaves them as they are, and the functions around them still behave the same."""
import asyncio
import contextlib


def numbers(n):
    for i in range(n):
        with contextlib.nullcontext():
            yield i


def delegating(n):
    result = yield from numbers(n)
    for extra in ("a", "b"):
        yield extra
    return result


def echo():
    received = []
    while True:
        try:
            value = yield len(received)
        except GeneratorExit:
            received.append("closed")
            raise
        except KeyError as exc:
            received.append(f"thrown {exc}")
            continue
        if value is None:
            return received
        received.append(value)


@contextlib.contextmanager
def managed(log):
    log.append("setup")
    try:
        yield "resource"
    except ValueError as exc:
        log.append(f"handled {exc}")
    finally:
        log.append("teardown")


def uses_generators():
    log = []
    for v in delegating(3):
        log.append(v)
    gen = echo()
    next(gen)
    gen.send("x")
    gen.throw(KeyError("k"))
    try:
        gen.send(None)
    except StopIteration as stop:
        log.append(("returned", stop.value))
    with managed(log) as res:
        log.append(res)
    log.append("after managed")
    return log


async def ticker(n):
    for i in range(n):
        await asyncio.sleep(0)
        yield i


class AsyncManager:
    def __init__(self, log):
        self.log = log

    async def __aenter__(self):
        self.log.append("aenter")
        return self

    async def __aexit__(self, *exc):
        self.log.append("aexit")
        return False


async def consume(n):
    log = []
    async with AsyncManager(log):
        async for value in ticker(n):
            log.append(value)
    for i in range(2):
        log.append(await helper(i))
    return log


async def helper(i):
    with contextlib.nullcontext():
        return i * 10


def run_async():
    results = []
    for n in (2, 3):
        results.append(asyncio.run(consume(n)))
    return results


print(uses_generators())
print(run_async())
gen_expr = (x * 2 for x in numbers(3))
print(list(gen_expr), list(delegating(1)))
