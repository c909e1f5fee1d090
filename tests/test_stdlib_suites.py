"""A sample of CPython's own test suites, run against vaccinated copies of the modules they
test and, for the language's own suites, as vaccinated code themselves (see
``stdlib_suites.py``; ``python tests/stdlib_suites.py [--with-suite]`` runs all of them). Each
suite must give the same result vaccinated as plain."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from stdlib_suites import KNOWN, has_test_suite, run_one

#: Chosen for what they exercise: a tuple after ``for ... in`` (ast), a local named ``iter``
#: (inspect), a module ``__getattr__`` during the test runner's walk of sys.modules (urllib),
#: a module the runtime itself imports (enum), packages (json), and plain code.
MODULES = ["ast", "inspect:test_inspect", "urllib:test_urlparse", "enum", "json:test_json",
           "argparse", "textwrap", "fractions", "difflib", "dataclasses:test_dataclasses"]
#: Suites run as vaccinated code: with statements and their managers suppressing exceptions,
#: scopes and closures, every statement of the grammar, raise and except*, classes, try with
#: except/else/finally in every combination, async context managers beside vaccinated code.
#: (test_generators is left out: its plain copy fails now and then on a loaded machine, in a
#: test about signals.)
SUITES = ["-:test_with", "-:test_scope", "-:test_grammar", "-:test_raise", "-:test_except_star",
          "-:test_class", "-:test_exception_variations", "-:test_contextlib_async",
          "-:test_named_expressions", "-:test_super"]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not has_test_suite(sys.executable), reason="this interpreter has no Lib/test"),
]


@pytest.mark.parametrize("spec", MODULES + SUITES)
def test_suite_passes_the_same_vaccinated(spec: str, tmp_path: Path) -> None:
    outcome = run_one(spec, sys.executable, tmp_path, [sys.executable, "-m", "daifu_cli"], timeout=600)
    assert (outcome.suite if outcome.module == "-" else outcome.module) not in KNOWN
    assert outcome.status == "same", (outcome.status, outcome.new_failures, outcome.detail)
    log = tmp_path / (outcome.suite if outcome.module == "-" else outcome.module) / "original.log"
    assert outcome.original_rc == 0, f"the plain copy's suite failed here:\n{log.read_text()[-2000:]}"
