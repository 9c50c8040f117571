"""Evaluation results cached by what decides them, so a model is never judged twice.

The key hashes the model's weights (checkpoint or bundle graph), the suite and its data,
the settings, the source of the server package (the code that produces completions) and
:data:`EVAL_VERSION` (bumped whenever this package changes how cases are built or judged):
change any of it and the evaluation runs again.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import tenon

EVAL_VERSION = 1  # bump when case construction, judging or the torch engine changes


@functools.cache
def source_fingerprint() -> str:
    """Hash of every Python file of the server package (the completion pipeline), taken
    once per process, when the code that runs is the code on disk."""
    digest = hashlib.sha256()
    root = Path(tenon.__file__).parent
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def cache_key(parts: dict[str, Any]) -> str:
    payload = json.dumps({**parts, "source": source_fingerprint(), "eval": EVAL_VERSION},
                         sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:20]


def load(folder: Path, key: str) -> dict[str, Any] | None:
    path = folder / f"{key}.json"
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None


def store(folder: Path, key: str, result: dict[str, Any]) -> Path:
    """Write atomically: a crash leaves the old file or none, never half of one."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{key}.json"
    tmp = folder / f".{key}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(result, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path
