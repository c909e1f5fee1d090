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

#: Suites of the language itself, run vaccinated (``--with-suite``) with no module of their own.
_LANGUAGE = (
    "with exceptions contextlib_async generators scope grammar class descr raise except_star "
    "patma iter itertools builtin listcomps setcomps dictcomps genexps unpack keywordonlyarg "
    "positional_only_arg super property decorators funcattrs dynamicclassattribute "
    "named_expressions opcodes augassign compare bool int float string_literals fstring "
    "format unicode_identifiers global sort slice richcmp contains isinstance weakset "
    "userdict userlist defaultdict ordered_dict deque copy math complex long list tuple dict "
    "set bytes userstring types typechecks abc coroutines yield_from generator_stop "
    "exception_group exception_variations baseexception traceback frame finalization gc"
)
LANGUAGE_SUITES = [f"-:test_{name}" for name in _LANGUAGE.split()]

#: Suites that differ for a reason README's "Limitations" gives (by module, or by suite for a
#: suite run on its own).
LINES = "checks line numbers or traces lines (the vaccinated file's lines, daifu's frames)"
KNOWN = {
    "dis": "inspects code objects (the barrier's names and locals show)",
    "trace": "traces lines and calls, daifu's included",
    "pydoc": "runs pydoc.py with python -I, which keeps the shim's folder off sys.path",
    "traceback": LINES,
    "gettext": LINES,
    "contextlib": LINES,
    "test_traceback": LINES,
    "test_exceptions": LINES,
    "test_patma": LINES,
    "test_exception_group": LINES,
    "test_frame": "reads another frame's f_locals (daifu's variables show) and line numbers",
    "test_coroutines": "reference counts after `with self.assertRaises...` (the f_locals snapshot)",
    "test_int": "times a first exception (which loads daifu's runtime)",
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
    spec: str,
    python: str,
    workdir: Path,
    daifu: list[str],
    timeout: float = 900,
    with_suite: bool = False,
) -> Outcome:
    module, _, suite = spec.partition(":")
    suite = suite or f"test_{module}"
    with_suite = with_suite or module == "-"
    root = workdir / (suite if module == "-" else module)
    shutil.rmtree(root, ignore_errors=True)
    plain, vaccinated = root / "plain", root / "vaccinated"
    plain.mkdir(parents=True)
    library = stdlib_dir(python)
    if module != "-":
        _copy_module(library / module, plain)
    if with_suite:
        suite_file = library / "test" / f"{suite}.py"
        if not suite_file.is_file():
            return Outcome(module, suite, "no single-file suite")
        shutil.copy(suite_file, plain / suite_file.name)
    made = subprocess.run(
        [*daifu, "vaccinate", str(plain), "-o", str(vaccinated), "--policy", "all"],
        capture_output=True,
        text=True,
    )
    if made.returncode != 0:
        detail = (made.stdout + made.stderr)[-3000:]
        return Outcome(module, suite, "vaccinate failed", detail=detail)
    # A suite's own copy runs with unittest from its folder; otherwise regrtest runs the
    # interpreter's suite, which imports the module from PYTHONPATH.
    command = ["-m", "unittest", "-v", suite] if with_suite else ["-m", "test", "-v", suite]
    imported = suite if module == "-" else module
    which = _run(
        python,
        ["-c", f"import {imported}; print({imported}.__file__)"],
        vaccinated,
        root,
        with_suite,
    )
    if str(vaccinated) not in which.stdout:
        return Outcome(module, suite, "not used", detail=(which.stdout + which.stderr)[-1000:])
    results = {}
    for side, path in (("original", plain), ("vaccinated", vaccinated)):
        ran = _run(python, command, path, root, with_suite, timeout)
        log = ran.stdout + ran.stderr
        (root / f"{side}.log").write_text(log, encoding="utf-8")
        results[side] = (ran.returncode, sorted(set(_FAILED.findall(log))), log)
    (orig_rc, orig_failed, _), (vax_rc, vax_failed, vax_log) = (
        results["original"],
        results["vaccinated"],
    )
    new = [name for name in vax_failed if name not in orig_failed]
    same = orig_rc == vax_rc and not new
    status = "same" if same else "differs"
    return Outcome(module, suite, status, orig_rc, vax_rc, new, "" if same else vax_log[-3000:])


def _copy_module(source: Path, into: Path) -> None:
    if source.is_dir():
        skip = shutil.ignore_patterns("__pycache__", "test", "tests")
        shutil.copytree(source, into / source.name, ignore=skip)
    else:
        shutil.copy(source.with_suffix(".py"), into / f"{source.name}.py")


def _run(
    python: str, args: list[str], path: Path, root: Path, in_path: bool, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [python, *args],
        capture_output=True,
        text=True,
        cwd=path if in_path else root,
        timeout=timeout,
        env={**os.environ, "PYTHONPATH": str(path)},
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
    parser.add_argument(
        "--with-suite", action="store_true", help="vaccinate each suite's own file as well"
    )
    args = parser.parse_args(argv)
    if not has_test_suite(args.python):
        print(f"{args.python} has no test package (Lib/test)", file=sys.stderr)
        return 2
    daifu = [sys.executable, "-m", "daifu_cli"]
    unexpected = 0
    for spec in args.modules or [*MODULES, *(LANGUAGE_SUITES if args.with_suite else [])]:
        outcome = run_one(spec, args.python, args.workdir, daifu, with_suite=args.with_suite)
        known = KNOWN.get(outcome.suite if outcome.module == "-" else outcome.module)
        label = (
            outcome.status
            if outcome.status == "same" or not known
            else f"{outcome.status} (known: {known})"
        )
        print(f"{spec:32} {label}", *outcome.new_failures[:5], flush=True)
        if outcome.status not in ("same", "no single-file suite") and not known:
            unexpected += 1
            print(outcome.detail, flush=True)
    return 1 if unexpected else 0


if __name__ == "__main__":
    sys.exit(main())
