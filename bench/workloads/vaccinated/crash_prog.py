# daifu 0.1.0: vaccinated copy of crash_prog.py; fixes saved here reach a waiting run
"""Restore-latency workload: crashes at a known statement, then waits for a fix.

The failing statement starts with ``stamp()``, which prints the time on the clock shared by
all processes (CLOCK_MONOTONIC on Linux); the first stamp is the crash, the second is the
statement running again after the fix. The fix is either an action snippet (``divisor = 1``)
or the fixed code (bench/restore.py writes ``max(divisor, 1)`` into the statement).
"""

__import__("_daifu_shim").vaccinated_module(__name__)
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
    # daifu: crash barrier for main() from crash_prog.py:25
    try:
        divisor = 0
        total = 0.0
        _daifu_it_L28 = __daifu__.iter(range(5))
        for i in _daifu_it_L28:
            if i == 2:
                total += stamp() + 1.0 / divisor
            total += i
        del _daifu_it_L28
        print(f"DONE {total}", flush=True)
    except BaseException as _daifu_e:
        _daifu_k = __daifu__.crash(_daifu_e)
        if _daifu_k is None:
            raise
    else:
        return None
    return _daifu_k()


main()
