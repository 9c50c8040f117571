"""Token healing: generate across the prompt's last token boundary.

A prompt that ends mid-token (the cursor after indentation, or after half a word) ends in a
token the model rarely saw there: in training, ``"\\n    "`` is usually followed by code
inside the same token run. Healing removes the prompt's last token and makes the first
generated tokens spell it again, so the model chooses the tokenization itself. The text of
the removed token is already in the document and is cut from the completion.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


class TokenTexts:
    """The decoded text of every token, indexed by first character (built once, lazily)."""

    def __init__(self, texts: Sequence[str]) -> None:
        self.texts = list(texts)
        self._by_text: dict[str, list[int]] = defaultdict(list)
        self._by_first: dict[str, list[int]] = defaultdict(list)
        for token_id, text in enumerate(self.texts):
            if text and "\ufffd" not in text:
                self._by_text[text].append(token_id)
                self._by_first[text[0]].append(token_id)

    def consistent_with(self, remaining: str) -> np.ndarray:
        """Tokens whose text starts with ``remaining`` or is a prefix of it."""
        starting = [i for i in self._by_first.get(remaining[0], ())
                    if self.texts[i].startswith(remaining)]
        prefixes = [
            i for n in range(1, len(remaining)) for i in self._by_text.get(remaining[:n], ())
        ]
        return np.asarray(sorted(set(starting) | set(prefixes)), dtype=np.int64)


@dataclass
class ForcedPrefix:
    """Constrains generation to begin with ``text``."""

    text: str
    table: TokenTexts
    remaining: str = ""

    def __post_init__(self) -> None:
        self.remaining = self.text

    def allowed(self) -> np.ndarray | None:
        """Ids allowed at this step, or None once the forced text is spelled."""
        return self.table.consistent_with(self.remaining) if self.remaining else None

    def advance(self, token_id: int) -> None:
        token_text = self.table.texts[token_id]
        if self.remaining.startswith(token_text):
            self.remaining = self.remaining[len(token_text):]
        else:
            self.remaining = ""


def back_off(
    ids: list[int], text_of, special: set[int], max_tokens: int = 3
) -> tuple[list[int], str]:
    """Drop the prompt's last token (and whitespace tokens before it) for healing.

    Returns the kept ids and the text the generation must start with.
    """
    kept = list(ids)
    forced = ""
    while len(kept) > 1 and len(ids) - len(kept) < max_tokens:
        last = kept[-1]
        text = text_of(last)
        if last in special or not text or "\ufffd" in text:
            break
        if forced and text.strip():
            break  # back off further only across whitespace
        forced = text + forced
        kept.pop()
    return kept, forced
