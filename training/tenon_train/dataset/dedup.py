"""Exact and near-duplicate removal: normalized hashes and MinHash with LSH banding.

Near duplicates are found on code-token 5-gram shingles: two texts whose estimated
Jaccard similarity reaches the threshold are duplicates and the later one (in a fixed
order) is dropped. The hashing is seeded and independent of ``PYTHONHASHSEED``.
"""

from __future__ import annotations

import hashlib
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|\d+|\S")
PRIME = (1 << 61) - 1


def code_tokens(text: str) -> list[str]:
    return TOKEN.findall(text)


def normalized_hash(text: str) -> str:
    return hashlib.sha256(" ".join(code_tokens(text)).encode()).hexdigest()


@dataclass(frozen=True)
class MinHashConfig:
    permutations: int = 64
    bands: int = 16  # rows per band = permutations / bands
    shingle: int = 5
    threshold: float = 0.85
    max_shingles: int = 4000
    seed: int = 1234


class NearDuplicates:
    """Feed texts in order; ``seen_similar`` says whether an earlier one is near it."""

    def __init__(self, cfg: MinHashConfig) -> None:
        self.cfg = cfg
        rng = np.random.default_rng(cfg.seed)
        self.a = rng.integers(1, PRIME, cfg.permutations, dtype=np.uint64)
        self.b = rng.integers(0, PRIME, cfg.permutations, dtype=np.uint64)
        self.buckets: dict[tuple[int, bytes], list[int]] = {}
        self.signatures: list[np.ndarray] = []

    def signature(self, text: str) -> np.ndarray | None:
        tokens = code_tokens(text)
        k = self.cfg.shingle
        shingles = {" ".join(tokens[i:i + k]) for i in range(max(0, len(tokens) - k + 1))}
        if not shingles:
            return None
        values = np.fromiter((zlib.crc32(s.encode()) for s in sorted(shingles)[
            : self.cfg.max_shingles]), dtype=np.uint64)
        # (a*x + b) mod p with x < 2^32 and a, b < 2^61 would overflow uint64: fold a first
        a = self.a & np.uint64(0xFFFFFFFF)
        hashed = (values[:, None] * a[None, :] + self.b[None, :]) % np.uint64(PRIME)
        return hashed.min(axis=0)

    def seen_similar(self, text: str) -> bool:
        """True if an earlier text is a near duplicate; otherwise remember this one."""
        signature = self.signature(text)
        if signature is None:
            return False
        rows = self.cfg.permutations // self.cfg.bands
        keys = [(band, signature[band * rows:(band + 1) * rows].tobytes())
                for band in range(self.cfg.bands)]
        candidates = {i for key in keys for i in self.buckets.get(key, ())}
        for i in candidates:
            if float(np.mean(self.signatures[i] == signature)) >= self.cfg.threshold:
                return True
        index = len(self.signatures)
        self.signatures.append(signature)
        for key in keys:
            self.buckets.setdefault(key, []).append(index)
        return False


def drop_exact(keys: Sequence[str]) -> list[bool]:
    """Keep-mask: the first of every repeated key."""
    seen: set[str] = set()
    keep = []
    for key in keys:
        keep.append(key not in seen)
        seen.add(key)
    return keep
