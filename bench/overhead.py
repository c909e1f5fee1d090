"""Steady-state overhead: vaccinated against original, same inputs and seeds.

* training loops (CPU: a small CNN; GPU: a small GPT, only where CUDA is available): pairs of
  fresh processes, interleaved (the order alternating from pair to pair: A B, B A, ...); each
  process reports the mean step time of its timed steps after a warm-up; the figure is the
  ratio vaccinated/original of each pair (median, min, max);
* Python-heavy micro cases: in one process, alternating timings (:mod:`bench.micro`).
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path
from typing import Any

from . import vax
from .common import env_for_child, log, run_json, summary

TRAIN = "train_loop.py"
MICRO = "micro.py"


FIGURES = (
    ("step_ms", "wall time per step, mean of all timed steps"),
    ("step_ms_median_block", "wall time per step, median block of 10 steps"),
    ("step_ms_min_block", "wall time per step, fastest block of 10 steps"),
    ("cpu_step_ms", "main-thread CPU time per step, mean"),
    ("cpu_step_ms_median_block", "main-thread CPU time per step, median block of 10 steps"),
)


def paired_runs(original: list[str], vaccinated: list[str], reps: int, label: str) -> dict[str, Any]:
    """Run the two commands *reps* times each, interleaved; per-pair ratios of their step times."""
    got_o: list[dict[str, Any]] = []
    got_v: list[dict[str, Any]] = []
    same = True
    for rep in range(reps):
        order = [("o", original), ("v", vaccinated)]
        if rep % 2:
            order.reverse()
        got = {}
        for key, cmd in order:
            got[key] = run_json(cmd, env=env_for_child())
        got_o.append(got["o"])
        got_v.append(got["v"])
        same &= got["o"]["loss"] == got["v"]["loss"] and got["o"]["evals"] == got["v"]["evals"]
        log(f"  {label} pair {rep + 1}/{reps}: original {got['o']['step_ms']:.3f} ms/step, "
            f"vaccinated {got['v']['step_ms']:.3f} ms/step ({got['v']['step_ms'] / got['o']['step_ms']:.4f}; "
            f"median blocks {got['v']['step_ms_median_block'] / got['o']['step_ms_median_block']:.4f})")
    result: dict[str, Any] = {"pairs": reps, "figures": {}}
    for key, what in FIGURES:
        orig_ms = [g[key] for g in got_o]
        vax_ms = [g[key] for g in got_v]
        ratios = [v / o for o, v in zip(orig_ms, vax_ms, strict=True)]
        result["figures"][key] = {
            "what": what,
            "original_ms": summary(orig_ms, 4),
            "vaccinated_ms": summary(vax_ms, 4),
            "ratio": summary(ratios, 5),
            "overhead_pct_median": round((statistics.median(ratios) - 1) * 100, 3),
            "ratio_of_medians": round(statistics.median(vax_ms) / statistics.median(orig_ms), 5),
            "raw_original_ms": [round(x, 4) for x in orig_ms],
            "raw_vaccinated_ms": [round(x, 4) for x in vax_ms],
        }
    result["same_losses"] = same
    result["threads"] = got_o[0].get("threads")
    return result


def cpu_training(work: Path, reps: int, steps: int, warmup: int, threads: int = 1) -> dict[str, Any]:
    src, out = vax.workload_pair(TRAIN, work)
    args = ["--model", "cnn", "--device", "cpu", "--steps", str(steps), "--warmup", str(warmup), "--threads", str(threads)]
    result = paired_runs(
        [sys.executable, str(src / TRAIN), *args], [sys.executable, str(out / TRAIN), *args], reps, "cpu"
    )
    log("  cpu: in-process alternating train() calls")
    inproc_args = ["--reps", str(max(6, reps)), "--steps", str(min(steps, 100)),
                   "--model", "cnn", "--device", "cpu", "--threads", str(threads)]
    result["in_process"] = _in_process(src, out, inproc_args)
    # A/A control: the original against itself, same harness. Its spread is this machine's
    # noise floor, which tells whether the A/B ratio above measures daifu or the machine.
    log("  cpu: in-process A/A control (original vs original)")
    result["in_process_control"] = _in_process(src, src, inproc_args)
    result.update({
        "workload": f"bench/workloads/{TRAIN} --model cnn (conv 3-8-16, 16x16 images, batch 32, AdamW, "
                    f"autocast cell per step, eval under no_grad every 100 steps)",
        "steps": steps,
        "warmup_steps": warmup,
        "target": "median overhead <= 0.5%",
        "meets_target": {k: f["ratio"]["median"] <= 1.005 for k, f in result["figures"].items()},
    })
    return result


def _in_process(src: Path, out: Path, args: list[str]) -> dict[str, Any]:
    env = env_for_child({"PYTHONPATH": str(Path(__file__).resolve().parent.parent)})
    try:
        return run_json([sys.executable, "-m", "bench.train_inproc", str(src), str(out), *args], env=env, timeout=1800)
    except Exception as exc:  # reported, not fatal: the paired processes are the main figure
        return {"error": f"{type(exc).__name__}: {exc}"[:2000]}


def cuda_info() -> dict[str, Any]:
    code = (
        "import json, torch\n"
        "ok = torch.cuda.is_available()\n"
        "print('BENCH ' + json.dumps({'available': ok, 'torch': torch.__version__, "
        "'cuda': torch.version.cuda, 'device': torch.cuda.get_device_name(0) if ok else None}))\n"
    )
    try:
        return run_json([sys.executable, "-c", code], timeout=300)
    except Exception as exc:  # torch missing or broken: the GPU part is skipped
        return {"available": False, "error": str(exc)[-500:]}


def gpu_training(work: Path, reps: int, steps: int, warmup: int, device: str = "cuda",
                 batch_size: int = 16) -> dict[str, Any]:
    """The GPT loop on *device* (``cpu`` only as a dry run of this code path)."""
    info = cuda_info()
    if device == "cuda" and not info.get("available"):
        return {"skipped": "no CUDA device: torch.cuda.is_available() is False", "cuda": info}
    src, out = vax.workload_pair(TRAIN, work)
    args = ["--model", "gpt", "--device", device, "--steps", str(steps), "--warmup", str(warmup),
            "--threads", "0", "--batch-size", str(batch_size)]
    result = paired_runs(
        [sys.executable, str(src / TRAIN), *args], [sys.executable, str(out / TRAIN), *args], reps, "gpu"
    )
    log(f"  {device}: in-process alternating train() calls")
    result["in_process"] = _in_process(src, out, ["--reps", str(max(6, reps)), "--steps", str(min(steps, 100)),
                                                  "--model", "gpt", "--device", device, "--threads", "0",
                                                  "--batch-size", str(batch_size)])
    result.update({
        "workload": f"bench/workloads/{TRAIN} --model gpt (6 layers, dim 384, 6 heads, seq 256, batch {batch_size}, "
                    "vocab 4096, bf16 autocast, AdamW)",
        "steps": steps,
        "warmup_steps": warmup,
        "cuda": info,
        "device": device,
        "vaccinated_from": "fresh daifu vaccinate" if vax.have_daifu() else "bench/workloads/vaccinated/ (checked in)",
    })
    return result


def micro(work: Path, reps: int, target_ms: float) -> dict[str, Any]:
    from .micro import SELECT

    src, out = vax.workload_pair(MICRO, work, select=SELECT)
    result = run_json(
        [sys.executable, "-m", "bench.micro", str(src), str(out), "--reps", str(reps), "--target-ms", str(target_ms)],
        env=env_for_child({"PYTHONPATH": str(Path(__file__).resolve().parent.parent)}),
        timeout=1200,
    )
    result["method"] = (
        f"in-process, the two copies imported side by side, {reps} alternating timed calls each "
        f"(about {target_ms:g} ms of CPU per call, gc off while timing), timed by the thread's CPU time "
        "(wall-clock figures in the JSON); added ns per iteration = "
        "(vaccinated - original) / iterations, per cell = that / cells run per iteration"
    )
    return result
