"""ONNX Runtime's optimised graph, saved once under ``$TENON_HOME/cache`` and loaded after.

Optimising the 0.5B decode graph (fusions, constant folding, weight layout) takes a second
or two of every start on a 2-core machine; the optimised graph, saved with its weights,
loads without optimising. It is specific to this machine and ONNX Runtime version, so the
cache key holds the ONNX Runtime version, the processor, the provider, the rewrite and the
graph file's identity (size, mtime): any change makes a new entry.

On a miss the engine loads as usual and the optimised copy is written by a background
thread (its own session, created only to save), so the first start is not slower; the
next start uses it. Small graphs are not cached: optimising them costs nothing.
"""

from __future__ import annotations

import hashlib
import logging
import os
import platform
import shutil
import threading
from pathlib import Path

import onnxruntime as ort

from tenon.paths import TenonHome

log = logging.getLogger(__name__)
MIN_GRAPH_BYTES = 64 * 2**20  # graphs smaller than this (with their data) are not cached
MODEL_NAME = "decoder.opt.onnx"
DATA_NAME = "decoder.opt.onnx.data"
REWRITE_VERSION = 2  # 2: num_logits input (graph_rewrite)


def graph_bytes(path: Path) -> int:
    data = path.with_name(path.name + ".data")
    return path.stat().st_size + (data.stat().st_size if data.is_file() else 0)


def cache_key(path: Path, provider: str, in_place: bool) -> str:
    facts = [ort.__version__, platform.machine(), _cpu_model(), provider,
             f"rewrite{REWRITE_VERSION if in_place else 0}", str(path.resolve())]
    for file in (path, path.with_name(path.name + ".data")):
        if file.is_file():
            stat = file.stat()
            facts += [str(stat.st_size), str(stat.st_mtime_ns)]
    return hashlib.sha256("\n".join(facts).encode()).hexdigest()[:20]


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(("model name", "flags")):
                return line
    except OSError:
        pass
    return platform.processor()


def cache_folder(key: str, home: TenonHome | None = None) -> Path:
    return (home or TenonHome.from_env()).root / "cache" / "optimized" / key


def cached_model(key: str) -> Path | None:
    model = cache_folder(key) / MODEL_NAME
    return model if model.is_file() else None


def save_in_background(model: bytes | str, options: ort.SessionOptions, providers: list[str],
                       key: str) -> threading.Thread:
    """Write the optimised graph for ``key`` from a throwaway session, off the caller's thread."""
    thread = threading.Thread(target=_save, args=(model, options, providers, key),
                              name="tenon-optimize", daemon=True)
    thread.start()
    return thread


def _save(model: bytes | str, options: ort.SessionOptions, providers: list[str],
          key: str) -> None:
    final = cache_folder(key)
    # one work folder per process and thread: two engines of one process may save alike
    work = final.with_name(f"{key}.partial-{os.getpid()}-{threading.get_ident()}")
    try:
        work.mkdir(parents=True, exist_ok=True)
        options.optimized_model_filepath = str(work / MODEL_NAME)
        options.add_session_config_entry(
            "session.optimized_model_external_initializers_file_name", DATA_NAME)
        options.add_session_config_entry(
            "session.optimized_model_external_initializers_min_size_in_bytes", "1024")
        ort.InferenceSession(model, options, providers=providers)
        if not final.exists():
            work.rename(final)
            log.info("optimised graph saved to %s", final)
    except Exception as exc:  # a cache that cannot be written costs only speed
        log.warning("could not save the optimised graph (%s)", exc)
    finally:
        shutil.rmtree(work, ignore_errors=True)
