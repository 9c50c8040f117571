"""Recent completions, so that typing through a suggestion costs no generation.

When the user types the first characters of the ghost text, the document is the one the
completion was made for with those characters inserted at the cursor: the rest of the
suggestion is still the answer (greedy decoding would continue the same way), and it is
given at once, without queueing behind the inference thread.

An offer is reused only when all of these hold: the same document; the text after the
cursor unchanged; the text before the cursor is the old one plus what was typed; what was
typed is the start of the suggestion and leaves some of it; the same model and settings.
Documents are not copied: an offer keeps the lengths and hashes of the text around the
cursor.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from tenon.context.snapshot import Snapshot


@dataclass(frozen=True)
class Offer:
    uri: str
    head_len: int  # characters before the cursor
    head_hash: int
    tail_hash: int
    text: str  # the completion offered at that cursor
    mode: str
    key: Any  # what else decides the completion (model, settings), compared with ==


@dataclass(frozen=True)
class Reuse:
    text: str  # the rest of the offer, after what was typed
    mode: str
    typed: str


class RecentCompletions:
    """A small LRU of offers, newest first per document."""

    def __init__(self, size: int = 32) -> None:
        self._offers: OrderedDict[tuple[str, int, int], Offer] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()
        self.hits = 0

    def remember(self, snapshot: Snapshot, text: str, mode: str, key: Any) -> None:
        if not text:
            return
        prefix = snapshot.prefix
        offer = Offer(snapshot.uri, len(prefix), hash(prefix), hash(snapshot.suffix), text,
                      mode, key)
        with self._lock:
            ident = (offer.uri, offer.head_len, offer.head_hash)
            self._offers.pop(ident, None)
            self._offers[ident] = offer
            while len(self._offers) > self._size:
                self._offers.popitem(last=False)

    def lookup(self, snapshot: Snapshot, key: Any) -> Reuse | None:
        """The rest of a recent offer that the user is typing through, or None."""
        prefix, tail_hash = snapshot.prefix, None
        with self._lock:
            offers = [o for o in reversed(self._offers.values()) if o.uri == snapshot.uri]
        for offer in offers:
            if offer.head_len > len(prefix) or offer.key != key:
                continue
            typed = prefix[offer.head_len :]
            if not offer.text.startswith(typed) or len(offer.text) == len(typed):
                continue
            if tail_hash is None:
                tail_hash = hash(snapshot.suffix)
            if tail_hash != offer.tail_hash or hash(prefix[: offer.head_len]) != offer.head_hash:
                continue
            with self._lock:
                self.hits += 1
            return Reuse(offer.text[len(typed) :], offer.mode, typed)
        return None

    def clear(self) -> None:
        with self._lock:
            self._offers.clear()
