"""Rewrite a bundle's decode graph so its KV cache can live in preallocated buffers.

The exported graph reads the past length from the shape of a past-key input, and its
``GroupQueryAttention`` nodes append each step's keys and values to a copy of the past
(``present`` = past + new, reallocated and copied on every step). ONNX Runtime's attention
also works in place: when ``past`` and ``present`` are the same buffer, of a fixed
capacity, it writes the new positions into it and attends to the first
``past_sequence_length + new`` of them. For that the past length must come from an input
rather than from the buffer's shape; this module makes that one change, in memory (the
bundle on disk is never modified), and refuses graphs of any other shape, for which the
engine keeps plain arrays.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from tenon.bundle import GraphIO

log = logging.getLogger(__name__)
PAST_LENGTH_INPUT = "past_sequence_length"
ATTENTION_OP = "GroupQueryAttention"


@dataclass(frozen=True)
class RewrittenGraph:
    model_bytes: bytes  # the rewritten graph, its weights still in the bundle's data file
    folder: Path  # where the external data lives (the bundle)


def past_inputs(io: GraphIO, layers: int) -> set[str]:
    names = set()
    for layer in range(layers):
        names |= {io.past_key.format(layer=layer), io.past_value.format(layer=layer)}
    return names


def _attr(node, name: str, default: int | None = None) -> int | None:
    for attribute in node.attribute:
        if attribute.name == name:
            return attribute.i
    return default


def rewrite_for_shared_kv(path: Path, io: GraphIO, layers: int) -> RewrittenGraph | None:
    """The graph with the past length as an input, or None if the graph is not of that kind.

    Accepted only when every past input is read by ``GroupQueryAttention`` nodes alone,
    except for ``Shape`` nodes that take its sequence axis (``start=2, end=3``), which are
    replaced by the new ``past_sequence_length`` input (int64, shape [1]).
    """
    import onnx  # only needed here: the server's one use of the onnx package

    model = onnx.load(str(path), load_external_data=False)
    graph = model.graph
    pasts = past_inputs(io, layers)
    if not pasts <= {i.name for i in graph.input}:
        return None
    shapes, attention = [], 0
    for node in graph.node:
        reads = [name for name in node.input if name in pasts]
        if not reads:
            continue
        if node.op_type == ATTENTION_OP and node.domain == "com.microsoft":
            attention += 1
        elif node.op_type == "Shape" and _attr(node, "start") == 2 and _attr(node, "end") == 3:
            shapes.append(node)
        else:
            log.info("KV in place not possible: %s reads the past cache", node.op_type)
            return None
    if attention != layers or not shapes:
        return None
    replaced = {node.output[0] for node in shapes}
    for node in shapes:
        graph.node.remove(node)
    for node in graph.node:
        for i, name in enumerate(node.input):
            if name in replaced:
                node.input[i] = PAST_LENGTH_INPUT
    graph.input.append(onnx.helper.make_tensor_value_info(
        PAST_LENGTH_INPUT, onnx.TensorProto.INT64, [1]))
    return RewrittenGraph(model.SerializeToString(), path.parent)
