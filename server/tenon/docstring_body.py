"""Generate from docstring: write the body of a stub function.

The stub (``pass``, ``...``, ``raise NotImplementedError`` or nothing) is taken out and the
cursor put where the body starts; the ordinary completion pipeline writes the body from
there (docstring-body mode, FIM with the rest of the file). When the docstring has doctest
examples, several candidates are generated (the greedy one, then samples), each is run
against the examples in the sandbox, and the one that passes most wins, ties broken by
the model's mean log-probability per token.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tenon.completion import Completion, complete
from tenon.context.snapshot import Snapshot
from tenon.context.stubs import StubFunction, stub_at
from tenon.doctests import DoctestOutcome, run_doctests
from tenon.inference.engine import CancelToken
from tenon.model import LoadedModel
from tenon.prompt_format import ContextSnippet
from tenon.settings import Settings

Report = Callable[[str, int], None]  # message, percentage
SAMPLE_TEMPERATURE = 0.7


@dataclass(frozen=True)
class BodyPlan:
    stub: StubFunction
    text: str  # the document as it was asked about

    def snapshot(self, uri: str, version: int | None) -> Snapshot:
        """The document without the stub, the cursor where the body starts."""
        head = self.text[: self.stub.replace_start] + "\n" + self.stub.indent
        return Snapshot(uri, version, "python", head + self.text[self.stub.replace_end :],
                        len(head))

    def new_text(self, body: str) -> str:
        return "\n" + self.stub.indent + body

    def with_body(self, body: str) -> str:
        return (self.text[: self.stub.replace_start] + self.new_text(body)
                + self.text[self.stub.replace_end :])


@dataclass(frozen=True)
class Candidate:
    body: str
    mean_logprob: float
    label: str
    doctests: DoctestOutcome | None = None

    def key(self) -> tuple[int, float]:
        passed = self.doctests.passed if self.doctests else 0
        return passed, self.mean_logprob


@dataclass(frozen=True)
class BodyResult:
    chosen: Candidate | None
    candidates: tuple[Candidate, ...]
    examples: int

    def summary(self) -> str:
        if self.chosen is None:
            return "no body could be generated"
        if not self.examples:
            return "body generated (the docstring has no examples to check)"
        passed = self.chosen.doctests.passed if self.chosen.doctests else 0
        return (f"{passed}/{self.examples} doctest examples pass "
                f"(best of {len(self.candidates)} candidates: {self.chosen.label})")


def plan_body(text: str, offset: int) -> BodyPlan | None:
    stub = stub_at(text, offset)
    return BodyPlan(stub, text) if stub is not None else None


def _candidate(done: Completion, label: str) -> Candidate | None:
    if not done.text or done.result is None:
        return None
    tokens = max(1, len(done.result.token_ids))
    return Candidate(done.text, done.result.logprob / tokens, label)


def generate_body(
    plan: BodyPlan, uri: str, version: int | None, settings: Settings, model: LoadedModel,
    cancel: CancelToken, report: Report, context: tuple[ContextSnippet, ...] = (),
) -> BodyResult:
    examples = len(plan.stub.examples)
    count = max(1, settings.candidates) if examples else 1
    snapshot = plan.snapshot(uri, version)
    found: list[Candidate] = []
    for k in range(count):
        if cancel.cancelled:
            break
        report(f"writing candidate {k + 1}/{count}", int(80 * k / count))
        greedy = k == 0
        done = complete(snapshot, settings, model, cancel, context,
                        temperature=settings.temperature if greedy else SAMPLE_TEMPERATURE,
                        seed=k)
        candidate = _candidate(done, "greedy" if greedy else f"sample {k}")
        if candidate is not None and all(c.body != candidate.body for c in found):
            found.append(candidate)
    if examples and found:
        report("running the docstring's examples", 85)
    return rank(plan, found)


def rank(plan: BodyPlan, candidates: list[Candidate]) -> BodyResult:
    """Run the examples against each candidate; most passes wins, then likelihood."""
    examples = len(plan.stub.examples)
    checked = [check(plan, c) for c in candidates] if examples else list(candidates)
    chosen = max(checked, key=Candidate.key, default=None)
    return BodyResult(chosen, tuple(checked), examples)


def check(plan: BodyPlan, candidate: Candidate) -> Candidate:
    outcome = run_doctests(plan.with_body(candidate.body), plan.stub.docstring, plan.stub.name,
                           len(plan.stub.examples))
    return Candidate(candidate.body, candidate.mean_logprob, candidate.label, outcome)
