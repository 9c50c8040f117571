"""Several KV caches, so that going back to a document finds its prompt still cached.

One cache holds the tokens of the last request only: open another file, ask there, come
back, and the first document's whole prompt (hundreds of tokens, most of a second on two
cores) is read again. :class:`KvSlots` keeps a few caches (slots), each the tokens of a
recent request with their keys and values. A new prompt continues the slot it shares the
longest prefix with, when that prefix is at least half of the slot (the same document,
typed on or edited below the cut); otherwise it is another sequence, and it takes an empty
slot, a new one while there are fewer than ``size``, or the least recently used.

Slots are made on first need: one document costs one cache, as before. Each slot is a
:class:`~tenon.inference.kv_buffers.KvStore` (its buffers sized by the store itself).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from tenon.inference.kv_buffers import KvStore


def common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    n = min(len(a), len(b))
    for i in range(n):
        if a[i] != b[i]:
            return i
    return n


class KvSlots:
    """Up to ``size`` KV stores; :meth:`pick` chooses the one a prompt should continue."""

    def __init__(self, make: Callable[[], KvStore], size: int) -> None:
        self._make = make
        self._size = max(1, size)
        self._slots: list[KvStore] = [make()]  # least recently used first

    @property
    def stores(self) -> tuple[KvStore, ...]:
        return tuple(self._slots)

    def pick(self, prompt_ids: Sequence[int]) -> KvStore:
        """The store for this prompt, marked as the most recently used."""
        shared = [common_prefix(s.tokens, prompt_ids) for s in self._slots]
        best = max(range(len(self._slots)), key=shared.__getitem__)
        slot = self._slots[best]
        if slot.tokens and 2 * shared[best] < len(slot.tokens):
            slot = self._spare()  # another sequence: leave that one cached
        self._slots.remove(slot)
        self._slots.append(slot)
        return slot

    def _spare(self) -> KvStore:
        empty = next((s for s in self._slots if not s.tokens), None)
        if empty is not None:
            return empty
        if len(self._slots) < self._size:
            slot = self._make()
            self._slots.append(slot)
            return slot
        return self._slots[0]

    def reset(self) -> None:
        for slot in self._slots:
            slot.keep(0)

    def close(self) -> None:
        for slot in self._slots:
            slot.close()
        self._slots = []
