"""Shared by the reliability benches: paths, a cached tiny bundle, results with their command.

Run the benches from the repository root with the project's Python, e.g.
``.venv/bin/python bench/reliability_fuzz.py``; each writes
``bench/results/reliability-<name>.json`` with the command that produced it and the
machine's load while it ran.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import shlex
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
for _path in (ROOT / "training", ROOT / "server", ROOT):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

DEFAULT_TINY = Path(tempfile.gettempdir()) / "tenon-bench-tiny"


def tiny_bundle(folder: Path = DEFAULT_TINY) -> Path:
    """The tiny trained Qwen2 bundle the tests use, built once (about a minute) and kept."""
    bundle = folder / "bundle"
    if (bundle / "manifest.json").is_file():
        return bundle
    from tests.support.tiny import build_tiny_bundle

    path, _model, _tokenizer = build_tiny_bundle("qwen2", folder, trained=True,
                                                 quantize="int8")
    return path


def machine() -> dict[str, Any]:
    return {"cpus": os.cpu_count(), "loadavg": [round(x, 2) for x in os.getloadavg()],
            "python": platform.python_version(), "platform": platform.platform()}


def write_result(name: str, figures: dict[str, Any], started_load: list[float]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"reliability-{name}.json"
    record = {
        "command": " ".join(shlex.quote(a) for a in [Path(sys.executable).name, *sys.argv]),
        "date": dt.datetime.now().isoformat(timespec="seconds"),
        "machine": {**machine(), "loadavg_at_start": started_load},
        **figures,
    }
    path.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n")
    return path
