"""CPython's own test suites against vaccinated copies of the standard library.

For each module: copy it (or its package) out of the interpreter's standard library, vaccinate
the copy with ``--policy all``, then run the module's suite from ``Lib/test`` twice, with the
plain copy and with the vaccinated copy first on ``PYTHONPATH``. A test that fails only with the
vaccinated copy is a difference daifu made. The suites are real programs that nobody wrote for
daifu: they found the bugs behind ``tests/programs/for_tuple_iterable.py``,
``shadowed_builtin_names.py``, ``module_getattr_in_sys_modules_walk/`` and
``shadows_stdlib_module/``.

Run ``python tests/stdlib_suites.py`` for the whole list (about 10 minutes on 2 cores) or name
modules (``json`` or ``json:test_json``); ``tests/test_stdlib_suites.py`` runs a subset. The
interpreter must have its ``test`` package (pyenv's and python.org's builds do; Debian's
``python3`` needs ``libpython3-testsuite``).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

#: ``module`` or ``module:suite`` (the suite's name when it is not ``test_<module>``).
# fmt: off
MODULES = [
    "textwrap", "difflib", "shlex", "fractions", "argparse", "configparser", "csv", "string",
    "pprint", "dataclasses:test_dataclasses", "enum", "statistics", "json:test_json",
    "email:test_email", "tokenize", "ast", "functools", "collections", "heapq", "bisect",
    "contextlib", "calendar", "base64", "glob", "fnmatch", "copy", "ipaddress", "graphlib",
    "operator", "queue", "sched", "random", "optparse", "getopt", "html:test_html", "gettext",
    "uuid", "zipfile", "tarfile", "logging", "typing", "pathlib", "inspect:test_inspect",
    "_pydecimal:test_decimal", "datetime:test_datetime", "pickle", "shutil", "tempfile",
    "subprocess", "traceback", "warnings", "re:test_re", "doctest:test_doctest",
    "xml:test_xml_etree", "http:test_httplib", "urllib:test_urlparse", "tomllib:test_tomllib",
    "plistlib", "mailbox", "zoneinfo:test_zoneinfo", "reprlib", "weakref", "timeit",
    "selectors", "_pyio:test_memoryio", "importlib:test_importlib", "dis", "trace", "pydoc",
]
# fmt: on

#: Suites that differ for a reason README's "Limitations" gives.
KNOWN = {
    "dis": "inspects code objects (the barrier's names and locals show)",
    "trace": "traces lines and calls, daifu's included",
    "pydoc": "runs pydoc.py with python -I, which keeps the shim's folder off sys.path",
}

_FAILED = re.compile(r"^(?:ERROR|FAIL): (\S+ \(\S+\))", re.MULTILINE)


@dataclass
class Outcome:
    module: str
    suite: str
    status: str  # "same", "differs", "vaccinate failed", "not used"
    original_rc: int = 0
    vaccinated_rc: int = 0
    new_failures: list[str] = field(default_factory=list)
    detail: str = ""


def stdlib_dir(python: str) -> Path:
    out = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['stdlib'])"],
        capture_output=True,
        text=True,
        check=True,
    )
    return Path(out.stdout.strip())


def has_test_suite(python: str) -> bool:
    probe = subprocess.run([python, "-c", "import test.libregrtest"], capture_output=True)
    return probe.returncode == 0


def run_one(
    spec: str, python: str, workdir: Path, daifu: list[str], timeout: float = 900
) -> Outcome:
    module, _, suite = spec.partition(":")
    suite = suite or f"test_{module}"
    root = workdir / module
    shutil.rmtree(root, ignore_errors=True)
    plain, vaccinated = root / "plain", root / "vaccinated"
    plain.mkdir(parents=True)
    source = stdlib_dir(python) / module
    if source.is_dir():
        shutil.copytree(
            source, plain / module, ignore=shutil.ignore_patterns("__pycache__", "test", "tests")
        )
    else:
        shutil.copy(source.with_suffix(".py"), plain / f"{module}.py")
    made = subprocess.run(
        [*daifu, "vaccinate", str(plain), "-o", str(vaccinated), "--policy", "all"],
        capture_output=True,
        text=True,
    )
    if made.returncode != 0:
        return Outcome(
            module, suite, "vaccinate failed", detail=(made.stdout + made.stderr)[-3000:]
        )
    which = subprocess.run(
        [python, "-c", f"import {module}; print({module}.__file__)"],
        capture_output=True,
        text=True,
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(vaccinated)},
    )
    if str(vaccinated) not in which.stdout:
        return Outcome(module, suite, "not used", detail=(which.stdout + which.stderr)[-1000:])
    results = {}
    for side, path in (("original", plain), ("vaccinated", vaccinated)):
        ran = subprocess.run(
            [python, "-m", "test", "-v", suite],
            capture_output=True,
            text=True,
            cwd=root,
            timeout=timeout,
            env={**os.environ, "PYTHONPATH": str(path)},
        )
        log = ran.stdout + ran.stderr
        (root / f"{side}.log").write_text(log, encoding="utf-8")
        results[side] = (ran.returncode, sorted(set(_FAILED.findall(log))), log)
    (orig_rc, orig_failed, _), (vax_rc, vax_failed, vax_log) = (
        results["original"],
        results["vaccinated"],
    )
    new = [name for name in vax_failed if name not in orig_failed]
    same = orig_rc == vax_rc and not new
    return Outcome(
        module,
        suite,
        "same" if same else "differs",
        orig_rc,
        vax_rc,
        new,
        "" if same else vax_log[-3000:],
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("modules", nargs="*", help="module or module:suite (default: all)")
    parser.add_argument(
        "--python", default=sys.executable, help="the interpreter whose stdlib and suites run"
    )
    parser.add_argument(
        "--workdir", type=Path, default=Path(tempfile.gettempdir()) / "daifu-stdlib"
    )
    args = parser.parse_args(argv)
    if not has_test_suite(args.python):
        print(f"{args.python} has no test package (Lib/test)", file=sys.stderr)
        return 2
    daifu = [sys.executable, "-m", "daifu_cli"]
    unexpected = 0
    for spec in args.modules or MODULES:
        outcome = run_one(spec, args.python, args.workdir, daifu)
        known = KNOWN.get(outcome.module)
        label = (
            outcome.status
            if outcome.status == "same" or not known
            else f"{outcome.status} (known: {known})"
        )
        print(f"{spec:32} {label}", *outcome.new_failures[:5], flush=True)
        if outcome.status != "same" and not known:
            unexpected += 1
            print(outcome.detail, flush=True)
    return 1 if unexpected else 0


if __name__ == "__main__":
    sys.exit(main())
