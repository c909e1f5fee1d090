"""Performance regression check: what vaccination adds to hot Python loops, as ratios.

The micro cases of ``bench/workloads/micro.py`` run in this process, the original and the
vaccinated copy side by side; each bound is on vaccinated/original time per iteration, so it
holds on any machine. To stay robust on a noisy, shared CI machine the figure is min-of-N of
the thread's CPU time over interleaved repetitions (waiting for a core is not counted, and the
fastest run of each side is the one least disturbed), re-measured up to four times before
failing. The bounds are generous: they catch a change that makes a cell or a loop
markedly more expensive, not noise. ``python -m bench`` gives the full figures.
"""

from __future__ import annotations

import sys

import pytest
from conftest import ROOT

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import micro

#: case -> the largest allowed vaccinated/original ratio (measured on 3.11: about 1.0, 1.2-1.3,
#: 3.2-3.5, 1.0, 1.0-1.2 respectively).
BOUNDS = {
    "plain_adds": 1.2,
    "call_in_loop": 1.2,
    "call_selected_in_loop": 1.5,
    "captured_adds": 1.6,
    "with_in_loop": 3.0,
    "try_finally_in_loop": 6.0,
}
TARGET_S = 0.004
REPS = 15
ATTEMPTS = 4


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from daifu_cli.options import ProjectConfig
    from daifu_cli.project import Request, vaccinate_project

    base = tmp_path_factory.mktemp("perf")
    src, out = base / "src", base / "vax"
    src.mkdir()
    (src / micro.MODULE).write_bytes((ROOT / "bench" / "workloads" / micro.MODULE).read_bytes())
    vaccinate_project(Request(src, out, ProjectConfig(select=tuple(micro.SELECT)), force=True))
    return micro.load_pair(src, out)


@pytest.mark.parametrize("case", sorted(BOUNDS))
def test_vaccinated_loop_cost_ratio(pair, case: str) -> None:  # type: ignore[no-untyped-def]
    orig, vax = pair
    fo, fv = getattr(orig, case), getattr(vax, case)
    assert fo(1000) == fv(1000)
    n = min(micro.calibrate(fo, TARGET_S), micro.calibrate(fv, TARGET_S))
    ratios = []
    for _ in range(ATTEMPTS):
        ratios.append(micro.min_ratio(fo, fv, n, REPS))
        if min(ratios) <= BOUNDS[case]:
            break
    assert min(ratios) <= BOUNDS[case], (
        f"{case}: vaccinated/original time per iteration is {min(ratios):.2f}x "
        f"(bound {BOUNDS[case]}x; attempts {[round(r, 2) for r in ratios]}, {n} iterations)"
    )

