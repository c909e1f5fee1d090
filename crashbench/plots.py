"""The two figures: restore time per case and strategy (log scale, since the strategies differ
by orders of magnitude), and the steady-state overhead ratios with their spread (points with
min–max bars around 1.0: bars from zero would hide differences of a few percent)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from crashbench.report import LABELS

COLORS = {"restart": "#c44e52", "checkpoint": "#dd8452", "daifu-resume": "#8172b3", "insitu": "#4c72b0", "insitu-snippet": "#64b5cd"}


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _errors(stats: list[dict[str, Any] | None]) -> tuple[list[float], list[list[float]]]:
    medians = [s["median"] if s else float("nan") for s in stats]
    low = [s["median"] - s["min"] if s else 0.0 for s in stats]
    high = [s["max"] - s["median"] if s else 0.0 for s in stats]
    return medians, [low, high]


def restore_times(results: dict[str, Any], path: Path) -> None:
    plt = _pyplot()
    cases = [c for c in results["cases"] if c.get("strategies")]
    names = [n for n in LABELS if any(n in c["strategies"] for c in cases)]
    fig, ax = plt.subplots(figsize=(max(6.0, 0.6 * len(cases) * len(names) / 2 + 2), 4.5))
    width = 0.8 / max(1, len(names))
    for index, name in enumerate(names):
        stats = [(c["strategies"].get(name) or {}).get("restore_s") for c in cases]
        medians, errors = _errors(stats)
        xs = [i + (index - (len(names) - 1) / 2) * width for i in range(len(cases))]
        ax.bar(xs, medians, width, yerr=errors, label=LABELS[name], color=COLORS[name], capsize=2)
    ax.set_yscale("log")
    ax.set_ylabel("restore time (s, log scale)")
    ax.set_xticks(range(len(cases)))
    ax.set_xticklabels([c["id"] for c in cases], rotation=45, ha="right", fontsize=8)
    ax.set_title("Restore time: crash to back at the failing step with the fix")
    ax.legend(fontsize=8)
    ax.grid(axis="y", which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def overhead(results: dict[str, Any], path: Path) -> None:
    plt = _pyplot()
    cases = [c for c in results["cases"] if c.get("overhead")]
    fig, ax = plt.subplots(figsize=(max(6.0, 0.5 * len(cases) + 2), 4.0))
    kinds = [("vaccinated", "vaccinated (daifu)", COLORS["insitu"]), ("checkpoint", "periodic checkpoints", COLORS["checkpoint"])]
    for index, (kind, label, color) in enumerate(kinds):
        stats = [c["overhead"]["ratio"].get(kind) for c in cases]
        medians, errors = _errors(stats)
        xs = [i + (index - 0.5) * 0.3 for i in range(len(cases))]
        ax.errorbar(xs, medians, yerr=errors, fmt="o", label=label, color=color, capsize=3)
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_ylabel("training-loop time ÷ original")
    ax.set_xticks(range(len(cases)))
    ax.set_xticklabels([c["id"] for c in cases], rotation=45, ha="right", fontsize=8)
    values = [v for c in cases for s in c["overhead"]["ratio"].values() if s for v in (s["min"], s["max"])]
    if values:
        ax.set_ylim(min(0.9, min(values) - 0.02), max(1.1, max(values) + 0.02))
    ax.set_title("Steady-state overhead (median, min–max over rounds)")
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write(results: dict[str, Any], out: Path) -> None:
    restore_times(results, out / "restore_times.png")
    overhead(results, out / "overhead.png")
