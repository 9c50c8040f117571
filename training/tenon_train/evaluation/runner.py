"""Run evaluation cases through the server's completion pipeline.

Every case is a document snapshot with the cursor where a user would ask for code; the
completion comes from ``tenon.completion.complete`` with the server's default settings,
whatever engine the model carries. Several cases run at once only when the engine batches
(the torch engine); ONNX Runtime runs them one by one, as the server does.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from tenon.completion import complete
from tenon.context.snapshot import Snapshot
from tenon.inference.engine import CancelToken
from tenon.settings import Settings


@dataclass(frozen=True)
class Case:
    """One place to complete: an id, the document and cursor, and what judging needs."""

    case_id: str
    snapshot: Snapshot
    reference: str = ""  # the original code at the cursor, when there is one
    extra: dict[str, Any] | None = None


@dataclass(frozen=True)
class Outcome:
    case_id: str
    completion: str
    mode: str
    reason: str
    finish: str
    prompt_tokens: int
    new_tokens: int
    seconds: float


def run_one(case: Case, model: Any, settings: Settings) -> Outcome:
    started = time.perf_counter()
    done = complete(case.snapshot, settings, model, CancelToken())
    result = done.result
    return Outcome(
        case.case_id, done.text, done.mode, done.reason,
        result.finish_reason if result else "none",
        result.prompt_tokens if result else 0,
        len(result.token_ids) if result else 0,
        round(time.perf_counter() - started, 3),
    )


def run_cases(
    cases: Sequence[Case], model: Any, settings: Settings, workers: int = 1,
    on_done: Callable[[Outcome], None] | None = None,
) -> list[Outcome]:
    """Complete every case; return the outcomes in the order of ``cases``.

    With several workers the longest prompts go first, so that batches hold prompts of
    similar length (less padding).
    """
    order = sorted(range(len(cases)), key=lambda i: -len(cases[i].snapshot.prefix))
    outcomes: dict[int, Outcome] = {}

    def work(index: int) -> None:
        outcome = run_one(cases[index], model, settings)
        outcomes[index] = outcome
        if on_done is not None:
            on_done(outcome)

    if workers <= 1:
        for index in order:
            work(index)
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for future in [pool.submit(work, i) for i in order]:
                future.result()
    return [outcomes[i] for i in range(len(cases))]
