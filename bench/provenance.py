"""Which code produced a result: the checkout's commit, for every results file."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _git(*args: str) -> str:
    done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                          check=False)
    return done.stdout.strip() if done.returncode == 0 else ""


def commit() -> str:
    """The short commit, with ``+dirty`` when the work tree differs from it; in a `git
    archive` snapshot (no repository) the ``BENCH_COMMIT`` environment variable, else
    ``unknown``."""
    head = _git("rev-parse", "--short", "HEAD")
    if not head:
        return os.environ.get("BENCH_COMMIT", "unknown")
    return head + ("+dirty" if _git("status", "--porcelain") else "")
