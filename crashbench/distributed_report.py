"""``distributed.json`` and the markdown table ``distributed.md`` of the distributed cases."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

COLUMNS = ("case", "strategy", "recovered", "detection", "pause propagation", "checkpoint",
           "back to training", "lost steps", "note")


def seconds(spread: dict[str, Any] | None, scale: float = 1.0, unit: str = "s") -> str:
    if not spread:
        return "-"
    text = f"{spread['median'] * scale:.2f} {unit}" if unit == "s" else f"{spread['median'] * scale:.1f} {unit}"
    if spread["n"] > 1:
        text += f" ({spread['min'] * scale:.2f}-{spread['max'] * scale:.2f})"
    return text


def row(case: dict[str, Any], name: str, found: dict[str, Any]) -> list[str]:
    if "not_applicable" in found:
        return [case["id"], name, "n/a", "-", "-", "-", "-", "-", found["not_applicable"]]
    runs = found["runs"]
    why = "; ".join(sorted({r["why_not"] for r in runs if r.get("why_not")}))
    note = "; ".join(sorted({r["note"] for r in runs if r.get("note")}))
    lost = found.get("lost_steps")
    return [
        case["id"], name, f"{found['recovered']}/{found['n']}",
        seconds(found.get("detection_s")), seconds(found.get("pause_propagation_s"), 1000, "ms"),
        seconds(found.get("checkpoint_ms"), 1, "ms"), seconds(found.get("time_back_s")),
        "-" if not lost else f"{lost['median']:g}", "; ".join(x for x in (why, note) if x),
    ]


def table(results: dict[str, Any]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for case in results["cases"]:
        for name, found in case["strategies"].items():
            lines.append("| " + " | ".join(cell.replace("|", "/") for cell in row(case, name, found)) + " |")
    return "\n".join(lines)


def write(results: dict[str, Any], out: Path, name: str = "distributed") -> str:
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps(results, indent=1, default=str) + "\n")
    machine = results["machine"]
    settings = results["settings"]
    text = "\n".join([
        "# crashbench: distributed cases",
        "",
        f"`{results['command']}` on {machine['platform']}, {machine['cpu_count']} CPUs, torch {machine.get('torch')}, "
        f"load {fmt_load(machine.get('loadavg_start'))} at the start and {fmt_load(machine.get('loadavg_end'))} at the end, "
        f"{results['date']}, {results['elapsed_s'] / 60:.1f} min.",
        "",
        f"{settings['ranks']} {settings['backend']} ranks under `torchrun --max-restarts={settings['max_restarts']} "
        f"--monitor-interval={settings['monitor_interval_s']}`, {settings['steps']} steps, the fault at step 12 "
        f"(14 for the checkpoint write), periodic checkpoints every {settings['checkpoint_every']} steps. "
        "Times are from the fault (the faulting rank's mark just before its buggy line or its kill -9); "
        "medians, with the range where more than one run. Definitions: crashbench/README.md, \"Distributed cases\".",
        "",
        table(results),
        "",
        "Cases:",
        "",
        *[f"* `{c['id']}`: {c['title']}" for c in results["cases"]],
        "",
    ])
    (out / f"{name}.md").write_text(text)
    return text


def fmt_load(load: Any) -> str:
    return "-" if not load else "/".join(f"{x:.1f}" for x in load)
