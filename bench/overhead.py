"""Steady-state overhead: vaccinated against original, same inputs and seeds.

* training loops (CPU: a small CNN; GPU: a small GPT, only where CUDA is available): pairs of
  fresh processes, interleaved (the order alternating from pair to pair: A B, B A, ...); each
  process reports the mean step time of its timed steps after a warm-up; the figure is the
  ratio vaccinated/original of each pair (median, min, max);
* Python-heavy micro cases: in one process, alternating timings (:mod:`bench.micro`).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from . import vax
from .common import env_for_child, log, run_json, summary

TRAIN = "train_loop.py"
MICRO = "micro.py"


def paired_runs(original: list[str], vaccinated: list[str], reps: int, label: str) -> dict[str, Any]:
    """Run the two commands *reps* times each, interleaved; ratios of their ``step_ms``."""
    orig_ms: list[float] = []
    vax_ms: list[float] = []
    same = True
    for rep in range(reps):
        order = [("o", original), ("v", vaccinated)]
        if rep % 2:
            order.reverse()
        got = {}
        for key, cmd in order:
            got[key] = run_json(cmd, env=env_for_child())
        orig_ms.append(got["o"]["step_ms"])
        vax_ms.append(got["v"]["step_ms"])
        same &= got["o"]["loss"] == got["v"]["loss"] and got["o"]["evals"] == got["v"]["evals"]
        log(f"  {label} pair {rep + 1}/{reps}: original {got['o']['step_ms']:.3f} ms/step, "
            f"vaccinated {got['v']['step_ms']:.3f} ms/step ({got['v']['step_ms'] / got['o']['step_ms']:.4f})")
    ratios = [v / o for o, v in zip(orig_ms, vax_ms)]
    return {
        "pairs": reps,
        "original_step_ms": summary(orig_ms, 4),
        "vaccinated_step_ms": summary(vax_ms, 4),
        "ratio": summary(ratios, 5),
        "overhead_pct_median": round((summary(ratios, 6)["median"] - 1) * 100, 3),
        "ratio_of_medians": round(summary(vax_ms, 6)["median"] / summary(orig_ms, 6)["median"], 5),
        "same_losses": same,
        "threads": got["o"].get("threads"),
        "raw": {"original_step_ms": [round(x, 4) for x in orig_ms], "vaccinated_step_ms": [round(x, 4) for x in vax_ms]},
    }


def cpu_training(work: Path, reps: int, steps: int, warmup: int, threads: int = 1) -> dict[str, Any]:
    src, out = vax.workload_pair(TRAIN, work)
    args = ["--model", "cnn", "--device", "cpu", "--steps", str(steps), "--warmup", str(warmup), "--threads", str(threads)]
    result = paired_runs(
        [sys.executable, str(src / TRAIN), *args], [sys.executable, str(out / TRAIN), *args], reps, "cpu"
    )
    result.update({
        "workload": f"bench/workloads/{TRAIN} --model cnn (conv 3-8-16, 16x16 images, batch 32, AdamW, "
                    f"autocast cell per step, eval under no_grad every 100 steps)",
        "steps": steps,
        "warmup_steps": warmup,
        "target": "median overhead <= 0.5%",
        "meets_target": result["ratio"]["median"] <= 1.005,
    })
    return result


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


def gpu_training(work: Path, reps: int, steps: int, warmup: int) -> dict[str, Any]:
    info = cuda_info()
    if not info.get("available"):
        return {"skipped": "no CUDA device: torch.cuda.is_available() is False", "cuda": info}
    src, out = vax.workload_pair(TRAIN, work)
    args = ["--model", "gpt", "--device", "cuda", "--steps", str(steps), "--warmup", str(warmup),
            "--threads", "0", "--batch-size", "16"]
    result = paired_runs(
        [sys.executable, str(src / TRAIN), *args], [sys.executable, str(out / TRAIN), *args], reps, "gpu"
    )
    result.update({
        "workload": f"bench/workloads/{TRAIN} --model gpt (6 layers, dim 384, 6 heads, seq 256, batch 16, "
                    "vocab 4096, bf16 autocast, AdamW)",
        "steps": steps,
        "warmup_steps": warmup,
        "cuda": info,
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
        f"(about {target_ms:g} ms per call, gc off while timing); added ns per iteration = "
        "(vaccinated - original) / iterations, per cell = that / cells run per iteration"
    )
    return result
