"""The held-out docstring → body split: blanked function bodies from unseen packages.

Each case is a real function from a package the model was not trained on, its body removed
and the cursor left where an editor puts it (the indented line after the docstring), with
the rest of the file after the cursor. Judged by: does the file parse with the completion
in place; exact match and edit similarity (difflib ratio, as CodeXGLUE's fuzzy ratio) with
the original body; and, for functions whose docstring has doctests that the original body
passes in the sandbox, whether the completed function passes them too.
"""

from __future__ import annotations

import ast
import difflib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

from tenon import sandbox
from tenon.context.snapshot import Snapshot
from tenon_train.evaluation.runner import Case, Outcome

LIMITS = sandbox.Limits(timeout_s=10.0, memory_mb=1024)


@dataclass(frozen=True)
class HeldOutCase:
    case_id: str
    group: str  # the package or repository it comes from
    path: str
    text: str  # the file with the body removed; the cursor at ``offset``
    offset: int
    reference: str  # the original body, from the cursor on
    qualname: str
    doctest: bool  # the docstring has examples that the original body passes

    def to_case(self) -> Case:
        uri = f"file:///heldout/{self.case_id}.py"
        return Case(self.case_id, Snapshot(uri, 1, "python", self.text, self.offset),
                    self.reference)

    def completed(self, completion: str) -> str:
        return self.text[: self.offset] + completion + self.text[self.offset :]


def read_cases(path: Path, limit: int | None = None) -> list[HeldOutCase]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    cases = [HeldOutCase(**row) for row in rows]
    return cases[:limit] if limit else cases


def write_cases(path: Path, cases: list[HeldOutCase]) -> None:
    path.write_text("".join(json.dumps(asdict(c)) + "\n" for c in cases), encoding="utf-8")


def normalized(code: str) -> str:
    return "\n".join(line.rstrip() for line in code.strip().splitlines() if line.strip())


def edit_similarity(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, normalized(a), normalized(b), autojunk=False).ratio()


def parses(source: str) -> bool:
    try:
        ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


DOCTEST_CHILD = """
import doctest
SOURCE = {source!r}
NAMESPACE = {{'__name__': '__heldout__'}}
exec(compile(SOURCE, 'heldout.py', 'exec'), NAMESPACE)
target = NAMESPACE
for part in {qualname!r}.split('.'):
    target = target[part] if isinstance(target, dict) else getattr(target, part)
finder = doctest.DocTestFinder(recurse=False)
runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
for test in finder.find(target, {qualname!r}.split('.')[-1], globs=dict(NAMESPACE)):
    runner.run(test, out=lambda _text: None)
RESULT = {{'attempted': runner.tries, 'failed': runner.failures}}
"""


def doctests_pass(source: str, qualname: str) -> bool:
    """Run the function's doctests in the sandbox; True if some ran and none failed."""
    outcome = sandbox.run(DOCTEST_CHILD.format(source=source, qualname=qualname), LIMITS)
    data = outcome.data if outcome.ok else None
    return isinstance(data, dict) and data.get("attempted", 0) > 0 and data.get("failed") == 0


def judge_one(case: HeldOutCase, outcome: Outcome) -> dict:
    completed = case.completed(outcome.completion)
    row = {
        **outcome.__dict__,
        "group": case.group,
        "exact": normalized(outcome.completion) == normalized(case.reference),
        "edit_similarity": round(edit_similarity(outcome.completion, case.reference), 4),
        "parses": bool(outcome.completion.strip()) and parses(completed),
        "doctest": case.doctest,
    }
    if case.doctest:
        row["passed"] = row["parses"] and doctests_pass(completed, case.qualname)
    return row


def judge(cases: list[HeldOutCase], outcomes: list[Outcome]) -> list[dict]:
    return [judge_one(c, o) for c, o in zip(cases, outcomes, strict=True)]
