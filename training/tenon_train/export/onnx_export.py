"""Export a causal LM's decode step to ONNX with transformers' own exporter.

One graph serves both prefill and decode: it takes any number of new tokens and the past
keys and values (empty for a prefill), and returns the updated cache and the logits of the
last position only (``logits_to_keep=1``: the output head runs on one position, which
makes long prompts much cheaper).
"""

from __future__ import annotations

import contextlib
import io
import logging
import re
import warnings
from collections.abc import Iterator
from pathlib import Path

import onnx
import torch

from tenon.bundle import GraphIO

CACHE_NAME = re.compile(r"^(?P<head>.*?)(?P<layer>\d+)(?P<tail>\D*(key|value)s?)$")


log = logging.getLogger(__name__)
NOISY_LOGGERS = ("", "torch", "torch.onnx", "torch._export", "onnxscript", "onnx_ir",
                 "transformers", "onnxruntime")


@contextlib.contextmanager
def quiet_exporter() -> Iterator[None]:
    """The exporter prints and warns a lot; keep it in the debug log, not on the screen."""
    saved = {name: logging.getLogger(name).level for name in NOISY_LOGGERS}
    printed = io.StringIO()
    try:
        for name in NOISY_LOGGERS:
            logging.getLogger(name).setLevel(logging.ERROR)
        with warnings.catch_warnings(), contextlib.redirect_stdout(printed):
            warnings.simplefilter("ignore")
            yield
    finally:
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)
        log.debug("exporter output:\n%s", printed.getvalue())


def export_decoder(model: torch.nn.Module, sample_ids: list[int], out_path: Path) -> None:
    """Write ``out_path`` (+ ``.data``): the multi-token decode graph of ``model``."""
    with quiet_exporter():
        _export(model, sample_ids, out_path)


def _export(model: torch.nn.Module, sample_ids: list[int], out_path: Path) -> None:
    from transformers.exporters import OnnxConfig, OnnxExporter
    from transformers.exporters.utils import decompose_prefill_decode

    ids = torch.tensor([sample_ids], dtype=torch.long)
    stages = decompose_prefill_decode(
        model, {"input_ids": ids, "attention_mask": torch.ones_like(ids)}, multi_token_decode=True
    )
    submodel, inputs = stages["decode"]
    inputs.pop("attention_mask", None)
    inputs["logits_to_keep"] = 1
    exported = OnnxExporter().export(submodel, inputs, OnnxConfig(dynamic=True, ort_fusions="cpu"))
    out_path.parent.mkdir(parents=True, exist_ok=True)
    OnnxExporter.save_program(exported.program, out_path)


def _pattern(names: list[str], kind: str) -> str:
    """The ``{layer}`` name pattern of the cache tensors of one kind ("key" or "value")."""
    patterns = set()
    for name in names:
        match = CACHE_NAME.match(name)
        if match and kind in match.group("tail"):
            patterns.add(f"{match.group('head')}{{layer}}{match.group('tail')}")
    if len(patterns) != 1:
        raise ValueError(f"cannot find one {kind} cache pattern in {names[:6]}…: {patterns}")
    return patterns.pop()


def graph_io(onnx_path: Path) -> tuple[GraphIO, int]:
    """The graph's input/output names and number of layers, read from the ONNX file."""
    graph = onnx.load(str(onnx_path), load_external_data=False).graph
    inputs = [i.name for i in graph.input]
    outputs = [o.name for o in graph.output]
    past = [n for n in inputs if CACHE_NAME.match(n)]
    present = [n for n in outputs if CACHE_NAME.match(n)]
    logits = [o for o in graph.output if o.name == "logits"]
    last_only = bool(logits) and logits[0].type.tensor_type.shape.dim[1].dim_value == 1
    io = GraphIO(
        input_ids="input_ids",
        position_ids="position_ids" if "position_ids" in inputs else None,
        past_key=_pattern(past, "key"),
        past_value=_pattern(past, "value"),
        present_key=_pattern(present, "key"),
        present_value=_pattern(present, "value"),
        logits="logits",
        logits_last_only=last_only,
    )
    return io, len(past) // 2
