"""Keep a fill-in-the-middle prompt while the user types at its cursor.

A FIM prompt is ``<prefix>P<suffix>S<middle>``. Typing at the cursor changes the end of P,
so everything after it (the suffix, up to a few hundred tokens) would be computed again on
every keystroke, and the cached prefix would be short. Instead, while the user types at
the place where the prompt was built (the text before that place and all the text after
the cursor unchanged, and no new line typed), the prompt stays that first one and the
typed characters go after it, as the start of the middle: ``<prefix>P<suffix>S<middle>T``.
That is the sequence the model would be reading had it written T itself, so only the typed
characters are new to the engine, and its cache covers the rest.

The pipeline heals the last typed token (it may be half a word) as it does for plain
prompts. A new line, a change elsewhere in the document, another mode, other settings or
another document start a new anchor.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tenon.context.prompt import BuiltPrompt
from tenon.context.snapshot import Snapshot

MAX_TYPED = 80  # characters typed after the anchor before a fresh prompt is built


@dataclass(frozen=True)
class Anchor:
    head_len: int
    head_hash: int
    tail_hash: int
    prompt: BuiltPrompt
    mode: str
    key: Any


class PromptAnchors:
    """The last FIM prompt of each recent document, reused while the user types at it."""

    def __init__(self, size: int = 16) -> None:
        self._anchors: OrderedDict[str, Anchor] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()
        self.reused = 0

    def prompt_for(
        self, snapshot: Snapshot, mode: str, key: Any, build: Callable[[], BuiltPrompt]
    ) -> tuple[BuiltPrompt, str]:
        """The prompt for this request and the text typed after it (often empty)."""
        with self._lock:
            anchor = self._anchors.get(snapshot.uri)
        typed = _typed_since(anchor, snapshot, mode, key) if anchor else None
        if anchor is not None and typed is not None:
            with self._lock:
                self.reused += 1
            return anchor.prompt, typed
        prompt = build()
        if prompt.fim:
            self._keep(snapshot, Anchor(len(snapshot.prefix), hash(snapshot.prefix),
                                        hash(snapshot.suffix), prompt, mode, key))
        else:
            with self._lock:
                self._anchors.pop(snapshot.uri, None)
        return prompt, ""

    def _keep(self, snapshot: Snapshot, anchor: Anchor) -> None:
        with self._lock:
            self._anchors.pop(snapshot.uri, None)
            self._anchors[snapshot.uri] = anchor
            while len(self._anchors) > self._size:
                self._anchors.popitem(last=False)


def _typed_since(anchor: Anchor, snapshot: Snapshot, mode: str, key: Any) -> str | None:
    prefix = snapshot.prefix
    if anchor.mode != mode or anchor.key != key or len(prefix) < anchor.head_len:
        return None
    typed = prefix[anchor.head_len :]
    if "\n" in typed or "\r" in typed or len(typed) > MAX_TYPED:
        return None
    if hash(snapshot.suffix) != anchor.tail_hash:
        return None
    if hash(prefix[: anchor.head_len]) != anchor.head_hash:
        return None
    return typed
