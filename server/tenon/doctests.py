"""Run a function's doctest examples against a candidate body, in the sandbox."""

from __future__ import annotations

from dataclasses import dataclass

from tenon.sandbox import Limits, run

RUNNER = '''
import doctest
_ns = {"__name__": "__tenon_candidate__"}
try:
    exec(compile(SOURCE, "candidate.py", "exec"), _ns)
except BaseException as _exc:
    RESULT = {"passed": 0, "attempted": ATTEMPTED, "error": f"{type(_exc).__name__}: {_exc}"}
else:
    _test = doctest.DocTestParser().get_doctest(DOCSTRING, _ns, NAME, "candidate.py", 0)
    _runner = doctest.DocTestRunner(
        verbose=False, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    _runner.run(_test, out=lambda _text: None, clear_globs=False)
    RESULT = {"passed": _runner.tries - _runner.failures, "attempted": _runner.tries}
'''


@dataclass(frozen=True)
class DoctestOutcome:
    passed: int
    attempted: int
    error: str = ""


def doctest_program(module_source: str, docstring: str, name: str, attempted: int) -> str:
    header = (f"SOURCE = {module_source!r}\nDOCSTRING = {docstring!r}\nNAME = {name!r}\n"
              f"ATTEMPTED = {attempted}\n")
    return header + RUNNER


def run_doctests(module_source: str, docstring: str, name: str, attempted: int,
                 limits: Limits | None = None) -> DoctestOutcome:
    """How many of the docstring's examples pass with ``module_source`` loaded."""
    result = run(doctest_program(module_source, docstring, name, attempted),
                 limits or Limits(timeout_s=10))
    data = result.data if isinstance(result.data, dict) else None
    if data is None:
        why = "timed out" if result.timed_out else (result.stderr.strip().splitlines() or ["?"])[-1]
        return DoctestOutcome(0, attempted, why)
    return DoctestOutcome(int(data.get("passed", 0)), int(data.get("attempted", attempted)),
                          str(data.get("error", "")))
