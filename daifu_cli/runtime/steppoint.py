"""Where a job checkpoint resumes: the step a lost rank interrupted, or the failing statement.

When a peer is lost, a survivor's collective fails somewhere in a training step. Resuming at
that statement is right only when the step's update is already applied (a collective after
``optimizer.step()``: logging, a metric): the state is the step's end. Before the update (the
usual case: DDP's gradient all-reduce inside ``loss.backward()``) the forward's autograd graph
is gone with the process, so the step is done again: the job resumes at the first statement
of the loop iteration that runs the step, with the iteration's item (the loop's target is
already bound and its iterator is past it), without the step's partial gradients, and with
the random state right after the previous optimizer step (:mod:`.steps`).

"Before" and "after" are read from the code: the statement that calls ``.step(...)`` in the
innermost frame whose code has one, against the statement that failed there. The iteration
done again is that of the innermost loop holding both (an inner loop of micro-batches,
gradient accumulation, is done again whole).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from . import frames, logical


@dataclass
class StepPoint:
    #: Index into the frames (innermost first) of the one that resumes at *path*; the frames
    #: inside it are dropped (the resumed statement calls them again).
    frame: int
    path: tuple
    #: Whether the step is done again (at the iteration's first statement) or the job resumes
    #: at the failing statement (the step's update was applied).
    redo: bool
    #: For the person: which statement.
    describe: str


class NoStepPoint(Exception):
    """No optimizer step found around the failure: the job cannot tell where its step starts."""


def find(wheres: list[frames.Where]) -> StepPoint:
    """*wheres*: the vaccinated frames at the failure, innermost first."""
    for index, where in enumerate(wheres):
        step = _step_statement(where.view.body)
        if step is None:
            continue
        failing = where.stmt
        if failing.node.lineno > (step.node.end_lineno or step.node.lineno):
            return StepPoint(0, wheres[0].path, False, f"{wheres[0].qualname}() at its failing statement (after the optimizer step)")
        if failing is step:
            raise NoStepPoint(
                f"{where.qualname}() failed inside its optimizer step (line {step.node.lineno} of the "
                "vaccinated file): its update may be partly applied"
            )
        for outer in range(index, len(wheres)):
            # In the frame that steps, the loop must hold the step too: with the backward in
            # an inner loop of micro-batches (gradient accumulation), redoing only the inner
            # iteration lost the micro-batches before it.
            loop = _iteration_start(wheres[outer], step if outer == index else None)
            if loop is not None:
                return StepPoint(outer, loop, True, f"{wheres[outer].qualname}() at the start of the loop iteration")
        raise NoStepPoint(
            f"the failure (line {failing.node.lineno} of the vaccinated {where.qualname}()) is not inside a loop "
            "iteration that steps the optimizer: there is no step to resume at"
        )
    raise NoStepPoint("none of the saved functions calls an optimizer's step()")


def _iteration_start(where: frames.Where, holding: logical.Stmt | None = None) -> tuple | None:
    """The path of the first statement of the innermost loop body around *where*'s statement
    (that also holds statement *holding*, if given)."""
    path = where.path
    for end in range(len(path) - 2, 0, -2):
        if path[end] != "body":
            continue
        loop = frames.statement_at(where.view.body, path[:end])
        if not isinstance(loop.node, (ast.For, ast.AsyncFor, ast.While)):
            continue
        if holding is None or loop.node.lineno <= holding.node.lineno <= (loop.node.end_lineno or loop.node.lineno):
            return (*path[: end + 1], 0)
    return None


def _step_statement(block: logical.Block) -> logical.Stmt | None:
    """The first simple statement (in source order) that calls ``something.step(...)``."""
    for stmt in block:
        if stmt.blocks:
            for _, inner in stmt.children():
                found = _step_statement(inner)
                if found is not None:
                    return found
            continue
        if any(
            isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "step"
            for node in ast.walk(stmt.node)
        ):
            return stmt
    return None
