"""break/continue/return from nested loops, inside with and try/finally, loop else, while/else."""
import contextlib


class Box:
    def __init__(self, log, name):
        self.log, self.name = log, name

    def __enter__(self):
        self.log.append("enter " + self.name)
        return self

    def __exit__(self, et, ev, tb):
        self.log.append("exit " + self.name + (" " + et.__name__ if et else ""))
        return False


def grid(n, stop_at, skip):
    log = []
    for i in range(n):
        for j in range(n):
            if (i, j) == skip:
                continue
            if (i, j) == stop_at:
                break
            log.append((i, j))
        else:
            log.append(("row complete", i))
            continue
        log.append(("row broken", i))
    else:
        log.append("grid complete")
    return log


def while_else(limit):
    log = []
    k = 0
    while k < limit:
        k += 1
        if k % 3 == 0:
            continue
        if k == 7:
            log.append("seven")
            break
        log.append(k)
    else:
        log.append(("exhausted", k))
    return log


def find_in_with(rows, target):
    log = []
    for r, row in enumerate(rows):
        with Box(log, f"row{r}"):
            for c, value in enumerate(row):
                with Box(log, f"cell{r}{c}") as box:
                    if value is None:
                        continue
                    if value == target:
                        return (r, c), box.name, log
                    if value < 0:
                        break
                    log.append(value)
            else:
                log.append("row done")
                continue
            log.append("row stopped")
    return None, None, log


def try_in_loops(items):
    log = []
    for item in items:
        try:
            if item == "skip":
                continue
            if item == "stop":
                break
            if item == "ret":
                return "returned", log
            log.append(item)
        finally:
            log.append("fin " + item)
    else:
        log.append("no break")
    return "end", log


def while_with_try(n):
    log = []
    i = 0
    while True:
        i += 1
        with contextlib.ExitStack() as stack:
            stack.callback(log.append, f"callback {i}")
            try:
                if i > n:
                    break
                if i % 2:
                    continue
                log.append(i)
            finally:
                log.append(f"finally {i}")
        log.append(f"after with {i}")
    return log


def loop_in_with_in_loop(data):
    total = 0
    for chunk in data:
        with Box([], "c"):
            for x in chunk:
                if x == 0:
                    break
                total += x
            else:
                total *= 10
        if total > 1000:
            return "big", total
    return "small", total


def returns_in_else(seq):
    for x in seq:
        if x < 0:
            break
    else:
        with Box([], "else"):
            return "no negatives"
    return "negative found"


class Walker:
    def __init__(self, limit):
        self.limit = limit
        self.seen = []

    def walk(self, tree):
        for name, children in tree:
            with Box(self.seen, name):
                if name == "stop":
                    return "stopped"
                for child in children:
                    if child > self.limit:
                        break
                    self.seen.append(child)
                else:
                    continue
                self.seen.append("broke at " + name)
        return "done"


print(grid(4, (2, 1), (1, 1)))
print(grid(3, (9, 9), (0, 0)))
print(while_else(5))
print(while_else(10))
print(find_in_with([[1, None, 2], [3, -1, 4], [5, 6, 7]], 6))
print(find_in_with([[1], [2]], 9))
print(try_in_loops(["a", "skip", "b", "stop", "c"]))
print(try_in_loops(["a", "ret", "b"]))
print(try_in_loops(["a", "b"]))
print(while_with_try(4))
print(loop_in_with_in_loop([[1, 2], [3, 0, 4], [5]]))
print(loop_in_with_in_loop([[100], [200]]))
print(returns_in_else([1, 2]), returns_in_else([1, -2]))
w = Walker(3)
print(w.walk([("a", [1, 2]), ("b", [1, 5, 2]), ("stop", []), ("c", [])]), w.seen)

if __name__ == "__main__":
    results = []
    for a in range(3):
        for b in range(3):
            with Box(results, f"{a}{b}"):
                if b == 1:
                    continue
                if a == 2:
                    break
                results.append(a * b)
        else:
            results.append("inner else")
    else:
        results.append("outer else")
    print(results)
    n = 0
    while n < 10:
        n += 1
        try:
            if n == 3:
                continue
            if n == 6:
                break
        finally:
            results.append(n)
    else:
        results.append("while else")
    print(results, n)
