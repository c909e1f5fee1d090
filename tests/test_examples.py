"""The example projects of ``examples/``: realistic training code, vaccinated with the default
selection policy.

For each example: the training loops are vaccinated and ``--explain`` says why the rest is
not; the output is stable (``--check`` passes, a second vaccination gives the same bytes);
every comment survives; and the vaccinated program prints exactly what the original prints
(losses with all their digits, a weights checksum). ``gpt_script`` (a nanoGPT-style script
with an exec'd configurator) also crashes on an injected bug, is fixed with ``daifu patch``
while it waits, and must end exactly like the fixed program run from scratch.
"""

from __future__ import annotations

import functools
import importlib.util
import io
import os
import re
import shutil
import subprocess
import sys
import tokenize
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import ROOT, requires_torch
from recovery import Run

from daifu_cli.patch import patch_once

EXAMPLES = ROOT / "examples"
# Tiny models on shared CPUs: one thread is faster (no spinning) and the same for every run.
THREADS = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


@dataclass(frozen=True)
class Example:
    name: str
    entry: str
    argv: tuple[str, ...]
    #: (file, qualname) pairs the default policy must vaccinate: the training loops.
    loops: tuple[tuple[str, str], ...]
    #: What ``--explain`` must print for functions it leaves alone (``file: qualname: reason``,
    #: the line number left out).
    explained: tuple[str, ...]
    #: The training framework the example needs (skipped, saying so, where it is missing).
    needs: str = ""


CASES = [
    Example(
        "gpt_script",
        "train.py",
        ("config/tiny_chars.py", "--max_iters=16", "--eval_interval=8"),
        loops=(
            ("train.py", "<script>"),
            ("train.py", "estimate_loss"),
            ("configurator.py", "<script>"),
            ("model.py", "GPT.generate"),
        ),
        explained=(
            "model.py: GPT.forward: not selected: forward() is model code that torch.compile/jit trace",
            "model.py: CausalSelfAttention.forward: not selected: forward() is model code",
            "train.py: get_lr: not selected: no loop",
            "train.py: get_batch: not selected: no loop",
            "config/tiny_chars.py: <script>: not selected: no loop at module level",
        ),
    ),
    Example(
        "cnn",
        "train.py",
        ("--epochs", "2", "--log-every", "3"),
        loops=(
            ("train.py", "train_one_epoch"),
            ("train.py", "evaluate"),
            ("train.py", "main"),
            ("data.py", "ShapesDataset.__init__"),
        ),
        explained=(
            "model.py: SmallCNN.forward: not selected: forward() is model code",
            "data.py: ShapesDataset.__len__: not selected: __len__ is called by the interpreter",
            "train.py: save_checkpoint: not selected: no loop",
            "train.py: <script>: not selected: no loop at module level",
        ),
    ),
    Example(
        "word_lm",
        "train.py",
        ("--epochs", "2", "--sentences", "800", "--log-interval", "4"),
        loops=(
            ("trainer.py", "Trainer.fit"),
            ("trainer.py", "Trainer.train_epoch"),
            ("trainer.py", "Trainer.evaluate"),
            ("corpus.py", "Corpus.ids"),
        ),
        explained=(
            "model.py: LSTMLanguageModel.forward: not selected: forward() is model code",
            "corpus.py: Vocabulary.__len__: not selected: __len__ is called by the interpreter",
            "trainer.py: Trainer.perplexity: not selected: no loop",
            "trainer.py: Trainer.lr: not selected: no loop",
        ),
    ),
    Example(
        "lightning",
        "train.py",
        ("--epochs", "2"),
        loops=(
            ("model.py", "Regressor.training_step"),
            ("model.py", "Regressor.validation_step"),
            ("model.py", "PrintLoss.on_train_batch_end"),
            ("data.py", "SyntheticData.collate"),
        ),
        explained=(
            "model.py: Regressor.forward: not selected: forward() is model code",
            "model.py: Regressor.configure_optimizers: not selected: no loop",
            "data.py: SyntheticData.train_dataloader: not selected: no loop",
        ),
        needs="lightning",
    ),
    Example(
        "hf_trainer",
        "train.py",
        ("--steps", "6"),
        loops=(
            ("train.py", "LossTrainer.compute_loss"),
            ("train.py", "PrintLoss.on_log"),
            ("train.py", "collate"),
        ),
        explained=(
            "train.py: make_sequences: not selected: no loop",
            "train.py: main: not selected: no loop",
        ),
        needs="transformers",
    ),
]

def _params(*, bug_sensitive: bool = True) -> list:  # type: ignore[type-arg]
    return [
        pytest.param(case, id=case.name, marks=pytest.mark.skipif(
            bool(case.needs) and importlib.util.find_spec(case.needs) is None,
            reason=f"{case.needs} is not installed (pip install -e '.[frameworks]')",
        ))
        for case in CASES
    ]


def _copy_example(name: str, target: Path) -> Path:
    shutil.copytree(EXAMPLES / name, target, ignore=shutil.ignore_patterns("__pycache__", "out", "*.pyc"))
    return target


def daifu(*args: str) -> subprocess.CompletedProcess[str]:
    """The command line, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "daifu_cli", *args], capture_output=True, text=True, timeout=120,
        env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1"},
    )


def run_example(folder: Path, example: Example, argv: tuple[str, ...] | None = None) -> subprocess.CompletedProcess[str]:
    """Like ``conftest.run_python`` (fresh interpreter, waiting off), with arguments."""
    env = {**os.environ, "PYTHONHASHSEED": "0", "DAIFU_CONSOLE": "off", "DAIFU_WAIT": "0", **THREADS}
    env.pop("PYTHONPATH", None)
    args = example.argv if argv is None else argv
    return subprocess.run(
        [sys.executable, example.entry, *args], cwd=folder, capture_output=True, text=True, timeout=300, env=env
    )


def _python_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.py") if "_daifu_shim" not in p.parts and ".daifu" not in p.parts)


def _comments(text: str) -> list[str]:
    return [
        tok.string.strip()
        for tok in tokenize.generate_tokens(io.StringIO(text).readline)
        if tok.type == tokenize.COMMENT
    ]


@pytest.fixture(scope="module")
def vaccinated(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """Each example copied and vaccinated once (default policy, with --explain)."""
    done: dict[str, tuple[Path, Path, subprocess.CompletedProcess[str]]] = {}

    def get(example: Example) -> tuple[Path, Path, subprocess.CompletedProcess[str]]:
        if example.name not in done:
            base = tmp_path_factory.mktemp(example.name)
            src = _copy_example(example.name, base / "src")
            out = base / "vax"
            result = daifu("vaccinate", str(src), "-o", str(out), "--explain")
            done[example.name] = (src, out, result)
        return done[example.name]

    return get


def test_examples_are_listed() -> None:
    found = sorted(p.name for p in EXAMPLES.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))
    assert found == sorted(c.name for c in CASES)


@pytest.mark.parametrize("example", _params())
def test_default_policy_vaccinates_the_training_loops(example: Example, vaccinated) -> None:  # type: ignore[no-untyped-def]
    _src, out, result = vaccinated(example)
    assert result.returncode == 0, result.stdout + result.stderr
    for file, qualname in example.loops:
        pattern = rf"^{re.escape(file)}:\d+: {re.escape(qualname)}: vaccinated: "
        assert re.search(pattern, result.stdout, re.MULTILINE), (file, qualname, result.stdout)
        text = (out / file).read_text()
        if qualname == "<script>":
            assert f"script-level code of {file}" in text, file
        else:
            assert f"crash barrier for {qualname}() from {file}:" in text, qualname
    for wanted in example.explained:
        file, rest = wanted.split(": ", 1)
        pattern = rf"^{re.escape(file)}:\d+: {re.escape(rest)}"
        assert re.search(pattern, result.stdout, re.MULTILINE), (wanted, result.stdout)
    assert "internal error" not in result.stdout + result.stderr


@pytest.mark.parametrize("example", _params())
def test_output_is_current_and_reproducible(example: Example, vaccinated, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    src, out, result = vaccinated(example)
    assert result.returncode == 0, result.stdout + result.stderr
    check = daifu("vaccinate", str(src), "-o", str(out), "--check")
    assert check.returncode == 0, check.stdout + check.stderr
    again = tmp_path / "again"
    second = daifu("vaccinate", str(src), "-o", str(again), "-q")
    assert second.returncode == 0, second.stdout + second.stderr
    first_files = {p.relative_to(out): p for p in out.rglob("*") if p.is_file() and ".daifu" not in p.parts}
    second_files = {p.relative_to(again): p for p in again.rglob("*") if p.is_file() and ".daifu" not in p.parts}
    assert sorted(first_files) == sorted(second_files)
    for rel, path in first_files.items():
        assert path.read_bytes() == second_files[rel].read_bytes(), rel


@pytest.mark.parametrize("example", _params())
def test_every_comment_survives(example: Example, vaccinated) -> None:  # type: ignore[no-untyped-def]
    src, out, result = vaccinated(example)
    assert result.returncode == 0, result.stdout + result.stderr
    inputs = _python_files(src)
    assert inputs
    for path in inputs:
        rel = path.relative_to(src)
        kept = _comments((out / rel).read_text(encoding="utf-8"))
        remaining = list(kept)
        for comment in _comments(path.read_text(encoding="utf-8")):
            # black may move a trailing comment, but it keeps its text
            assert comment in remaining, f"{rel}: lost {comment!r}"
            remaining.remove(comment)


@pytest.mark.slow
@requires_torch
@pytest.mark.parametrize("example", _params())
def test_vaccinated_run_prints_exactly_the_same(example: Example, vaccinated, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _src, vaccinated_out, result = vaccinated(example)
    assert result.returncode == 0, result.stdout + result.stderr
    # run in copies: the runs write checkpoints, and the shared output must stay current
    out = shutil.copytree(vaccinated_out, tmp_path / "vax")
    original = run_example(_copy_example(example.name, tmp_path / "src"), example)
    assert original.returncode == 0, original.stderr
    assert "weights checksum" in original.stdout and "loss" in original.stdout
    treated = run_example(out, example)
    assert treated.stdout == original.stdout, treated.stderr
    assert treated.returncode == original.returncode, treated.stderr
    assert "daifu:" not in treated.stderr, treated.stderr


# -- crash, fix with `daifu patch`, resume -------------------------------------------------


@dataclass(frozen=True)
class Bug:
    name: str
    good: str
    buggy: str
    fixed: str
    exception: str
    function: str


LOSS_LINE = "            loss = loss / gradient_accumulation_steps  # the gradients add up across micro-steps\n"
MEAN_LINE = "        out[split] = losses.mean().item()\n"
BUGS = [
    # a typo on a code path first taken at iteration 7, inside `with ctx:` in the micro-step loop
    Bug(
        "typo_in_with_ctx_at_iter_7",
        LOSS_LINE,
        LOSS_LINE.replace("gradient_accumulation_steps ", "(gradient_accumulation_steps if iter_num < 7 else gradient_accumulation_step) "),
        LOSS_LINE.replace("gradient_accumulation_steps ", "(gradient_accumulation_steps if iter_num < 7 else gradient_accumulation_steps) "),
        "NameError",
        "<module>",
    ),
    # a shape bug in estimate_loss() (a function of the script, under @torch.no_grad()),
    # after the first eval batches were drawn
    Bug(
        "shape_bug_in_estimate_loss",
        MEAN_LINE,
        MEAN_LINE.replace("losses.mean()", "losses.mean(dim=1)"),
        MEAN_LINE.replace("losses.mean()", "losses.mean(dim=0)"),
        "IndexError",
        "estimate_loss",
    ),
]


class ExampleRun(Run):
    """:class:`recovery.Run` for a copied example folder, started with arguments."""

    def __init__(self, tmp_path: Path, name: str, edits: list[tuple[str, str]], file: str, entry: str) -> None:
        from daifu_cli.options import merge
        from daifu_cli.project import Request, vaccinate_project

        self.src = _copy_example(name, tmp_path / "src")
        self.out = tmp_path / "vax"
        path = self.src / file
        text = path.read_text()
        for old, new in edits:
            assert old in text, old
            text = text.replace(old, new, 1)
        path.write_text(text)
        outcome = vaccinate_project(Request(self.src, self.out, merge(self.src, policy="default")))
        assert not outcome.errors, outcome.errors
        self.entry = entry
        self.env = {**os.environ, "DAIFU_CONSOLE": "off", "PYTHONUNBUFFERED": "1", **THREADS}
        self.env.pop("PYTHONPATH", None)
        self.process = None

    def start_with(self, argv: tuple[str, ...]) -> ExampleRun:
        self.process = subprocess.Popen(
            [sys.executable, self.entry, *argv],
            cwd=self.out,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        return self


@functools.cache
def pristine_gpt(argv: tuple[str, ...]) -> str:
    """What the untouched gpt_script example prints with *argv* (run once per session)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        result = run_example(_copy_example("gpt_script", Path(tmp) / "src"), CASES[0], argv)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.slow
@requires_torch
@pytest.mark.parametrize("bug", BUGS, ids=[b.name for b in BUGS])
def test_gpt_script_crash_fixed_by_daifu_patch_resumes_in_place(bug: Bug, tmp_path: Path) -> None:
    example = CASES[0]
    argv = ("config/tiny_chars.py", "--max_iters=12", "--eval_interval=4")
    run = ExampleRun(tmp_path / "run", "gpt_script", [(bug.good, bug.buggy)], "train.py", example.entry)
    bug_line = run.src.joinpath("train.py").read_text().splitlines().index(bug.buggy.rstrip("\n")) + 1
    run.start_with(argv)
    try:
        state = run.wait_waiting(timeout=180)
        assert state["exception"] == bug.exception, state
        assert state["function"] == bug.function, state
        assert state["file"].endswith("train.py") and state["line"] == bug_line, state
        run.edit_source(bug.buggy, bug.fixed, "train.py")  # the user fixes their copy...
        assert patch_once(run.src, run.out) == ["train.py"]  # ...and runs `daifu patch`
        code, out, err = run.finish(timeout=300)
    finally:
        run.kill()
    assert code == 0, err
    assert f"crash intercepted in {bug.function}()" in err and bug.exception in err
    # the fixed program from scratch, and the untouched example (each fix is equivalent)
    fixed = run_example(run.src, example, argv)
    assert fixed.returncode == 0, fixed.stderr
    assert out == fixed.stdout
    assert out == pristine_gpt(argv)
    # resumed in place: nothing before the crash ran twice
    for line in ("step 0: train loss", "step 4: train loss", "iter 6: loss", "weights checksum"):
        assert out.count(line) == 1, (line, out)
    events = [e["event"] for e in run.events()]
    assert events[0] == "crash" and events[-1] == "resume" and "patch" in events, events
    assert run.events()[-1]["line"] == bug_line
