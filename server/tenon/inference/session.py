"""ONNX Runtime sessions for a bundle's decode graph: options, in-place KV, warm-up.

- Options: all graph optimisations; ``threads`` intra-op threads (0: ONNX Runtime's
  default, one per physical core); one inter-op thread (a decode graph is a chain).
- In-place KV: the graph is rewritten in memory (see :mod:`graph_rewrite`) and loaded from
  those bytes, its weights read from the bundle's own data file; when the rewrite is not
  possible (another graph shape, or no ``onnx`` package) the graph is loaded as it is.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import onnxruntime as ort

from tenon.bundle import Bundle, GraphVariant
from tenon.inference.graph_rewrite import rewrite_for_shared_kv

log = logging.getLogger(__name__)
EXTERNAL_DATA_FOLDER = "session.model_external_initializers_file_folder_path"


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
                 kv_in_place: bool = True) -> OpenedSession:
    path = bundle.file(variant.file)
    layers = bundle.manifest.architecture.num_layers
    rewritten, note = None, "in-place KV disabled"
    if kv_in_place:
        try:
            rewritten = rewrite_for_shared_kv(path, bundle.manifest.io, layers)
            note = "in-place KV" if rewritten else "graph not rewritable: KV copied per step"
        except ImportError:
            note = "the `onnx` package is missing: KV copied per step"
        except Exception as exc:  # a malformed graph fails below with a clear message
            log.warning("graph rewrite failed (%s); loading the graph as it is", exc)
            note = f"graph rewrite failed ({exc}): KV copied per step"
    opts = session_options(threads)
    try:
        if rewritten is not None:
            opts.add_session_config_entry(EXTERNAL_DATA_FOLDER, str(rewritten.folder))
            session = ort.InferenceSession(rewritten.model_bytes, opts, providers=providers)
        else:
            session = ort.InferenceSession(str(path), opts, providers=providers)
    except Exception as exc:  # onnxruntime raises its own untyped errors
        raise SessionError(f"ONNX Runtime cannot load {Path(path).name}: {exc}") from exc
    return OpenedSession(session, rewritten is not None, note)
