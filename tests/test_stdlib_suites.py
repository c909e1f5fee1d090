"""A sample of CPython's own test suites, run against vaccinated copies of the modules they
test (see ``stdlib_suites.py``; ``python tests/stdlib_suites.py`` runs all of them). Each suite
must give the same result with the vaccinated copy as with the plain one."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from stdlib_suites import KNOWN, has_test_suite, run_one

#: Chosen for what they exercise: a tuple after ``for ... in`` (ast), a local named ``iter``
#: (inspect), a module ``__getattr__`` during the test runner's walk of sys.modules (urllib),
#: a module the runtime itself imports (enum), packages (json, email), and plain code.
SAMPLE = [
    "ast",
    "inspect:test_inspect",
    "urllib:test_urlparse",
    "enum",
    "json:test_json",
    "argparse",
    "textwrap",
    "shlex",
    "fractions",
    "difflib",
    "statistics",
    "dataclasses:test_dataclasses",
]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not has_test_suite(sys.executable), reason="this interpreter has no Lib/test"
    ),
]


@pytest.mark.parametrize("spec", SAMPLE)
def test_suite_passes_the_same_vaccinated(spec: str, tmp_path: Path) -> None:
    outcome = run_one(
        spec, sys.executable, tmp_path, [sys.executable, "-m", "daifu_cli"], timeout=600
    )
    assert outcome.module not in KNOWN
    assert outcome.status == "same", (outcome.status, outcome.new_failures, outcome.detail)
    assert (
        outcome.original_rc == 0
    ), f"the plain copy's suite failed here:\n{(tmp_path / outcome.module / 'original.log').read_text()[-2000:]}"
