"""Held-out evaluation cases: docstring → body spans of the test groups, whole files kept.

Functions whose docstring has examples (``>>>``) are checked in the sandbox: only when the
original body passes its doctests does the case count for the pass rate. Half the cases (at
most) are such doctest cases; the rest are chosen by a seeded hash; at most ``PER_GROUP``
cases come from one package, so no single package dominates.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from typing import TYPE_CHECKING

from tenon_train.dataset.decontaminate import Contamination
from tenon_train.evaluation.heldout import HeldOutCase, doctests_pass

if TYPE_CHECKING:
    from tenon_train.dataset.build import DatasetConfig, Loaded
    from tenon_train.dataset.extract import Span

PER_GROUP = 12


def to_case(item: Loaded, span: Span, doctest: bool) -> HeldOutCase:
    text = item.text
    digest = hashlib.sha256(f"{item.source.path}:{span.qualname}".encode()).hexdigest()[:10]
    name = span.qualname.replace(".", "_").replace("<", "").replace(">", "")
    return HeldOutCase(f"{name}-{digest}", item.source.group, item.source.path,
                       text[: span.start] + text[span.end:], span.start,
                       text[span.start: span.end], span.qualname, doctest)


def _has_working_doctest(item: Loaded, span: Span) -> bool:
    if ">>>" not in span.intent or "<locals>" in span.qualname:
        return False
    return doctests_pass(item.text, span.qualname)


def heldout_cases(bodies: dict[str, list[tuple[Loaded, Span]]], test_groups: set[str],
                  benchmarks: Contamination, cfg: DatasetConfig, counts: Counter
                  ) -> list[HeldOutCase]:
    def order(pair: tuple[Loaded, Span]) -> str:
        return hashlib.sha256(f"{cfg.seed}:{pair[0].source.path}:{pair[1].qualname}".encode()
                              ).hexdigest()

    pool = sorted((p for g in sorted(test_groups) for p in bodies.get(g, [])), key=order)
    clean = []
    for item, span in pool:
        if benchmarks.hit(span.intent + "\n" + item.text[span.start: span.end]):
            counts["decontaminated (held-out cases): HumanEval or evaluation files"] += 1
        else:
            clean.append((item, span))
    with_tests = [(i, s) for i, s in clean if _has_working_doctest(i, s)]
    counts["held-out candidates"] = len(clean)
    counts["held-out candidates with passing doctests"] = len(with_tests)
    chosen = _pick([to_case(i, s, True) for i, s in with_tests], cfg.heldout_cases // 2, [])
    chosen = _pick([to_case(i, s, False) for i, s in clean], cfg.heldout_cases, chosen)
    return sorted(chosen, key=lambda c: c.case_id)


def _pick(candidates: list[HeldOutCase], limit: int, chosen: list[HeldOutCase]
          ) -> list[HeldOutCase]:
    """Add candidates in order until ``limit`` cases, at most ``PER_GROUP`` per group."""
    chosen = list(chosen)
    per_group = Counter(c.group for c in chosen)
    taken = {c.case_id for c in chosen}
    for case in candidates:
        if len(chosen) >= limit:
            break
        if case.case_id in taken or per_group[case.group] >= PER_GROUP:
            continue
        chosen.append(case)
        taken.add(case.case_id)
        per_group[case.group] += 1
    return chosen
