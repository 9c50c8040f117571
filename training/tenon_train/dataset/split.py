"""Train / validation / test split by group (package or repository), never by function.

Groups are ordered by a seeded hash of their name and dealt out until each held-out split
holds its share of the examples, so the split is deterministic and every function of a
package lands in the same split.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable

SPLITS = ("train", "validation", "test")


def group_order(groups: Iterable[str], seed: int) -> list[str]:
    return sorted(set(groups), key=lambda g: hashlib.sha256(f"{seed}:{g}".encode()).hexdigest())


def assign(group_sizes: Counter, seed: int, validation: float, test: float) -> dict[str, str]:
    """``group → split``; test and validation each get at least one group when possible."""
    total = sum(group_sizes.values())
    order = group_order(group_sizes, seed)
    targets = (("test", test * total), ("validation", validation * total))
    assignment: dict[str, str] = {}
    position = 0
    for split, target in targets:
        taken = 0
        while position < len(order) - 1 and (taken < target or taken == 0) and target > 0:
            group = order[position]
            assignment[group] = split
            taken += group_sizes[group]
            position += 1
    for group in order[position:]:
        assignment[group] = "train"
    return assignment
