"""ONNX Runtime sessions for a bundle's decode graph: options, in-place KV, warm-up.

- Options: all graph optimisations; ``threads`` intra-op threads (0: ONNX Runtime's
  default, one per physical core); one inter-op thread (a decode graph is a chain).
- In-place KV: the graph is rewritten in memory (see :mod:`graph_rewrite`) and loaded from
  those bytes, its weights read from the bundle's own data file; when the rewrite is not
  possible (another graph shape, or no ``onnx`` package) the graph is loaded as it is.
- Saved optimised graph (CPU, large graphs): see :mod:`optimized_cache`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import onnxruntime as ort

from tenon.bundle import Bundle, GraphVariant
from tenon.inference import optimized_cache
from tenon.inference.graph_rewrite import PAST_LENGTH_INPUT, rewrite_for_shared_kv

log = logging.getLogger(__name__)
EXTERNAL_DATA_FOLDER = "session.model_external_initializers_file_folder_path"
CPU = "CPUExecutionProvider"


class SessionError(Exception):
    """ONNX Runtime could not load the graph; the message says why."""


@dataclass(frozen=True)
class OpenedSession:
    session: ort.InferenceSession
    kv_in_place: bool
    note: str  # why in place or not, for the log and the stats


def session_options(threads: int) -> ort.SessionOptions:
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.inter_op_num_threads = 1
    if threads > 0:
        opts.intra_op_num_threads = threads
    opts.log_severity_level = 3
    return opts


def open_session(bundle: Bundle, variant: GraphVariant, providers: list[str], threads: int,
                 kv_in_place: bool = True, cache: bool = True) -> OpenedSession:
    """A session for the graph: the saved optimised one if cached, else built (and saved)."""
    path = bundle.file(variant.file)
    key = None
    if cache and providers == [CPU] and optimized_cache.graph_bytes(path) >= (
            optimized_cache.MIN_GRAPH_BYTES):
        key = optimized_cache.cache_key(path, providers[0], kv_in_place)
        saved = _load_saved(key, providers, threads)
        if saved is not None:
            return saved
    model, note = _graph_source(bundle, path, kv_in_place)
    try:
        session = ort.InferenceSession(model, _options(threads, bundle), providers=providers)
    except Exception as exc:  # onnxruntime raises its own untyped errors
        raise SessionError(f"ONNX Runtime cannot load {Path(path).name}: {exc}") from exc
    if key is not None:
        optimized_cache.save_in_background(model, _options(threads, bundle), providers, key)
    in_place = PAST_LENGTH_INPUT in {i.name for i in session.get_inputs()}
    return OpenedSession(session, in_place, note)


def _options(threads: int, bundle: Bundle) -> ort.SessionOptions:
    opts = session_options(threads)
    opts.add_session_config_entry(EXTERNAL_DATA_FOLDER, str(bundle.path))
    return opts


def _graph_source(bundle: Bundle, path: Path, kv_in_place: bool) -> tuple[bytes | str, str]:
    """The graph to load (rewritten bytes, or the file) and a note on the KV cache."""
    if not kv_in_place:
        return str(path), "in-place KV disabled"
    try:
        rewritten = rewrite_for_shared_kv(path, bundle.manifest.io,
                                          bundle.manifest.architecture.num_layers)
    except ImportError:
        return str(path), "the `onnx` package is missing: KV copied per step"
    except Exception as exc:  # a malformed graph fails when loaded, with a clear message
        log.warning("graph rewrite failed (%s); loading the graph as it is", exc)
        return str(path), f"graph rewrite failed ({exc}): KV copied per step"
    if rewritten is None:
        return str(path), "graph not rewritable: KV copied per step"
    return rewritten.model_bytes, "in-place KV"


def _load_saved(key: str, providers: list[str], threads: int) -> OpenedSession | None:
    saved = optimized_cache.cached_model(key)
    if saved is None:
        return None
    opts = session_options(threads)
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    try:
        session = ort.InferenceSession(str(saved), opts, providers=providers)
    except Exception as exc:  # a bad cache entry: build the graph again
        log.warning("saved optimised graph %s not usable (%s)", saved, exc)
        return None
    in_place = PAST_LENGTH_INPUT in {i.name for i in session.get_inputs()}
    note = "in-place KV" if in_place else "KV copied per step"
    return OpenedSession(session, in_place, f"{note}, saved optimised graph")
