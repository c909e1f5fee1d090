"""multiprocessing with the spawn and fork start methods: functions and classes defined by
script-level code are pickled by name and the child re-imports the main module."""
import contextlib
import multiprocessing as mp
import sys

SCALE = 3
for _ in range(1):
    OFFSET = 1


class Job:
    def __init__(self, n):
        self.n = n

    def run(self):
        with contextlib.nullcontext():
            return self.n * SCALE + OFFSET


def work(n):
    for _ in range(1):
        return Job(n).run()


def failing(n):
    with contextlib.nullcontext():
        if n == 2:
            raise ValueError(f"job {n} failed")
    return n


if __name__ == "__main__":
    methods = ["spawn"] + (["fork"] if sys.platform.startswith("linux") else [])
    for method in methods:
        ctx = mp.get_context(method)
        with ctx.Pool(2) as pool:
            print(method, pool.map(work, range(4)))
            try:
                pool.map(failing, range(4))
            except ValueError as exc:
                print(method, "child error:", exc)
        proc = ctx.Process(target=work, args=(5,))
        proc.start()
        proc.join()
        print(method, "exit code", proc.exitcode)
