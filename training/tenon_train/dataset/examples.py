"""An example as stored: the text around the cursor, the middle, and where it came from."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from tenon_train.dataset.extract import Span
from tenon_train.dataset.sources import SourceFile


@dataclass(frozen=True)
class Example:
    kind: str
    group: str
    path: str
    licence: str
    origin: str
    prefix: str  # text before the cursor (a generous window; budgets cut it further)
    middle: str  # what the model should write
    suffix: str  # text after the middle
    qualname: str = ""
    intent: str = ""

    @classmethod
    def of(cls, source: SourceFile, text: str, span: Span, prefix_chars: int,
           suffix_chars: int) -> Example:
        return cls(span.kind, source.group, source.path, source.licence, source.origin,
                   text[max(0, span.start - prefix_chars): span.start],
                   text[span.start: span.end], text[span.end: span.end + suffix_chars],
                   span.qualname, span.intent)


def write_jsonl(path: Path, examples: list[Example]) -> None:
    path.write_text("".join(json.dumps(asdict(e)) + "\n" for e in examples), encoding="utf-8")


def read_jsonl(path: Path) -> list[Example]:
    return [Example(**json.loads(line)) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]
