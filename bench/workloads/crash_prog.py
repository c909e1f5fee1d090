"""Restore-latency workload: crashes at a known statement, then waits for a fix.

The failing statement starts with ``stamp()``, which prints the time on the clock shared by
all processes (CLOCK_MONOTONIC on Linux); the first stamp is the crash, the second is the
statement running again after the fix. The fix is either an action snippet (``divisor = 1``)
or the fixed code (bench/restore.py writes ``max(divisor, 1)`` into the statement).
"""

import sys
import time


def now():
    if hasattr(time, "clock_gettime") and sys.platform.startswith("linux"):
        return time.clock_gettime(time.CLOCK_MONOTONIC)
    return time.time()


def stamp():
    sys.stdout.write(f"STAMP {now()!r}\n")
    sys.stdout.flush()
    return 0.0


def main():
    divisor = 0
    total = 0.0
    for i in range(5):
        if i == 2:
            total += stamp() + 1.0 / divisor
        total += i
    print(f"DONE {total}", flush=True)


main()
