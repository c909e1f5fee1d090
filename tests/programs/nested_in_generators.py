"""Plain functions nested in generators and async functions (which daifu leaves alone) are
vaccinated inside them; a generator nested in a plain function is left alone inside it."""
import asyncio
import contextlib


def numbered(items):
    def label(i, item):
        with contextlib.nullcontext():
            for _ in range(1):
                return f"{i}:{item}"

    for i, item in enumerate(items):
        yield label(i, item)


async def gather(n):
    def square(x):
        for _ in range(1):
            return x * x

    results = []
    for i in range(n):
        await asyncio.sleep(0)
        results.append(square(i))
    return results


def outer(n):
    def gen():
        for i in range(n):
            with contextlib.nullcontext():
                yield i * 10

    total = 0
    for v in gen():
        total += v
    return total, list(gen())


print(list(numbered("ab")), asyncio.run(gather(3)), outer(3))
for k in range(1):
    print(list(numbered("z")))
