"""pickle of script-level functions and classes, threads running vaccinated functions,
functools.partial, KeyboardInterrupt raised and caught, and sys.exit with a code from inside
a with body under `if __name__ == "__main__":`."""
import contextlib
import copy
import functools
import pickle
import queue
import sys
import threading


class Model:
    def __init__(self, weights):
        self.weights = list(weights)

    def step(self, lr):
        with contextlib.nullcontext():
            self.weights = [w - lr for w in self.weights]
        return self

    def __eq__(self, other):
        return isinstance(other, Model) and self.weights == other.weights


def scale(x, factor=2, *, offset=0):
    for _ in range(1):
        return x * factor + offset


def worker(jobs, results, name):
    while True:
        job = jobs.get()
        if job is None:
            break
        with contextlib.nullcontext():
            try:
                if job < 0:
                    raise ValueError(job)
                results.put((job, name, scale(job)))
            except ValueError as exc:
                results.put((job, name, f"rejected {exc}"))


def run_threads(values):
    jobs, results = queue.Queue(), queue.Queue()
    threads = [threading.Thread(target=worker, args=(jobs, results, f"t{i}")) for i in range(3)]
    for t in threads:
        t.start()
    for v in values:
        jobs.put(v)
    for _ in threads:
        jobs.put(None)
    for t in threads:
        t.join()
    out = []
    while not results.empty():
        job, _, value = results.get()
        out.append((job, value))
    return sorted(out, key=lambda item: item[0])


def interrupted(n):
    log = []
    for i in range(n):
        try:
            with contextlib.nullcontext():
                if i == 2:
                    raise KeyboardInterrupt("simulated ctrl-c")
                log.append(i)
        except KeyboardInterrupt as exc:
            log.append(f"interrupted: {exc}")
            break
    return log


def exits_inside(code):
    try:
        with contextlib.nullcontext():
            sys.exit(code)
    except SystemExit as exc:
        return f"caught exit {exc.code}"


m = Model([1.0, 2.0]).step(0.5)
clone = pickle.loads(pickle.dumps(m))
print(clone.weights, clone == m, copy.deepcopy(m) == m)
print(pickle.loads(pickle.dumps(scale))(3), pickle.loads(pickle.dumps(Model)).__name__)
double_plus = functools.partial(scale, factor=3, offset=1)
print(double_plus(2), double_plus.func is scale, pickle.loads(pickle.dumps(double_plus))(1))
print(run_threads([1, -2, 3, 4, -5]))
print(interrupted(5))
print(exits_inside(3), exits_inside(None), exits_inside("message"))

if __name__ == "__main__":
    for attempt in range(3):
        with contextlib.nullcontext():
            print("attempt", attempt)
            if attempt == 1:
                sys.exit(7)
