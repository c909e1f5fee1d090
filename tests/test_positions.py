"""Which frames a shown traceback keeps (:func:`daifu_cli.runtime.positions.visible`)."""

from __future__ import annotations

from daifu_cli.runtime import positions


class Code:
    def __init__(self, filename: str, name: str, flags: int = 0x0003) -> None:
        self.co_filename, self.co_name, self.co_flags = filename, name, flags


class Frame:
    def __init__(self, code: Code) -> None:
        self.f_code = code


USER = "/project_vax/train.py"
SHIM = positions.SHIM_DIR + "signals.py"


def frames(*codes: Code) -> list[tuple[Frame, int]]:
    return [(Frame(code), line) for line, code in enumerate(codes, 1)]


def names(items: list[tuple[Frame, int]]) -> list[str]:
    return [f"{frame.f_code.co_name}:{line}" for frame, line in items]


def test_daifu_frames_and_the_callers_of_generated_frames_are_dropped() -> None:
    items = frames(
        Code(USER, "<module>", flags=0),  # the real module frame, at the decorator line
        Code(SHIM, "run_script"),
        Code(USER, "<module>"),  # the script function
        Code(USER, "train"),  # the function's own frame, at its cell's call
        Code(USER, "_daifu_with_L12"),  # the cell, at the statement
        Code("/usr/lib/python3/library.py", "helper"),
    )
    assert names(positions.visible(items, outer_first=True)) == ["<module>:3", "_daifu_with_L12:5", "helper:6"]
    walked_up = items[::-1]
    assert names(positions.visible(walked_up, outer_first=False)) == ["helper:6", "_daifu_with_L12:5", "<module>:3"]


def test_resumed_code_replaces_the_frame_that_crashed() -> None:
    items = frames(
        Code(USER, "<module>", flags=0),
        Code(USER, "train"),  # at the barrier's `return _daifu_k()`
        Code(SHIM, "handover"),
        Code("<daifu resume 1: train in train.py>", "train"),
        Code(USER, "step"),
    )
    assert names(positions.visible(items, outer_first=True)) == ["<module>:1", "train:4", "step:5"]


def test_a_stack_that_ends_in_the_shim_is_left_whole() -> None:
    """daifu's own errors keep every frame, for whoever reads its internal-error report."""
    items = frames(Code(USER, "<module>", flags=0), Code(USER, "train"), Code(SHIM, "crash"))
    assert positions.visible(items, outer_first=True) == items
