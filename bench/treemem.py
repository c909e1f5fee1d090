"""Run a command and report its wall time and peak memory.

    python -m bench.treemem -- COMMAND ...

Prints ``BENCH {json}`` with ``wall_s``, ``maxrss_largest_kb`` (``getrusage(RUSAGE_CHILDREN)
.ru_maxrss``: the largest single process of the tree; this process is fresh, so nothing else
is counted) and ``tree_peak_kb`` (the largest sum of the RSS of every process of the tree,
sampled from /proc every 20 ms: worker pools included), and the command's exit status.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import threading
import time


def _tree_rss_kb(root: int) -> int:
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    page_kb = os.sysconf("SC_PAGE_SIZE") // 1024
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", encoding="ascii", errors="replace") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(name)
        parents[pid] = int(fields[1])
        rss[pid] = int(fields[21]) * page_kb
    total = 0
    for pid in rss:
        current = pid
        while current and current != root:
            current = parents.get(current, 0)
        if current == root:
            total += rss[pid]
    return total


def main(argv: list[str]) -> int:
    if argv and argv[0] == "--":
        argv = argv[1:]
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            if os.path.isdir("/proc"):
                try:
                    peak[0] = max(peak[0], _tree_rss_kb(proc.pid))
                except Exception:
                    pass
            done.wait(0.02)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - started
    done.set()
    thread.join()
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    print("BENCH " + json.dumps({
        "wall_s": wall,
        "returncode": proc.returncode,
        "maxrss_largest_kb": usage.ru_maxrss,
        "tree_peak_kb": peak[0],
        "user_s": usage.ru_utime,
        "sys_s": usage.ru_stime,
        "stdout_tail": out[-4000:],
        "stderr_tail": err[-4000:],
    }), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
