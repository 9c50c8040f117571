"""Rewrite a bundle's decode graph so its KV cache can live in preallocated buffers.

The exported graph reads the past length from the shape of a past-key input, and its
``GroupQueryAttention`` nodes append each step's keys and values to a copy of the past
(``present`` = past + new, reallocated and copied on every step). ONNX Runtime's attention
also works in place: when ``past`` and ``present`` are the same buffer, of a fixed
capacity, it writes the new positions into it and attends to the first
``past_sequence_length + new`` of them. For that the past length must come from an input
rather than from the buffer's shape; this module makes that change, in memory (the
bundle on disk is never modified), and refuses graphs of any other shape, for which the
engine keeps plain arrays.

A graph exported with the logits of the last position only (``logits_to_keep=1``: a
``Slice`` of the hidden states from ``-1`` before the output head) gets a second change in
the same pass: the slice starts at ``-num_logits``, a new input, so one pass can also score
several positions (the engine verifies drafted tokens that way, :mod:`prompt_lookup`). With
``num_logits = 1`` the graph computes exactly what it did before.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from tenon.bundle import GraphIO

log = logging.getLogger(__name__)
PAST_LENGTH_INPUT = "past_sequence_length"
NUM_LOGITS_INPUT = "num_logits"
ATTENTION_OP = "GroupQueryAttention"
# Nodes between the last-position slice and the logits, each reading the activations as its
# first input: the output head in fp32, int8 (dynamic quantization) or MatMulNBits form.
HEAD_OPS = {"MatMul", "MatMulInteger", "MatMulNBits", "DynamicQuantizeLinear", "Cast", "Mul",
            "Add", "DynamicQuantizeMatMul"}
HEAD_DEPTH = 8


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
    if io.logits_last_only:
        score_last_positions(model, io.logits)  # the store sees it in the session's inputs
    return RewrittenGraph(model.SerializeToString(), path.parent)


def score_last_positions(model, logits: str) -> bool:
    """Make the output head's last-position slice start at ``-num_logits``; False (and the
    graph untouched) if the path from the logits back to a ``Slice(-1:)`` is not found."""
    import onnx

    graph = model.graph
    made_by = {out: node for node in graph.node for out in node.output}
    path, name = [], logits
    for _ in range(HEAD_DEPTH):
        node = made_by.get(name)
        if node is None or (node.op_type != "Slice" and node.op_type not in HEAD_OPS):
            return False
        path.append(node)
        if node.op_type == "Slice":
            break
        name = node.input[0]
    else:
        return False
    head_slice = path[-1]
    if head_slice.op_type != "Slice" or _constant(graph, head_slice.input[1]) != [-1]:
        return False
    negated = NUM_LOGITS_INPUT + "_negated"
    graph.node.insert(list(graph.node).index(head_slice), onnx.helper.make_node(
        "Neg", [NUM_LOGITS_INPUT], [negated], name="tenon_num_logits_neg"))
    head_slice.input[1] = negated
    graph.input.append(onnx.helper.make_tensor_value_info(
        NUM_LOGITS_INPUT, onnx.TensorProto.INT64, [1]))
    _forget_shapes(graph, {out for node in path for out in node.output}, logits)
    return True


def _constant(graph, name: str) -> list[int] | None:
    from onnx import numpy_helper

    for init in graph.initializer:
        if init.name == name and not init.external_data:
            return numpy_helper.to_array(init).tolist()
    for node in graph.node:
        if node.op_type == "Constant" and node.output[0] == name and node.attribute:
            return numpy_helper.to_array(node.attribute[0].t).tolist()
    return None


def _forget_shapes(graph, names: set[str], logits: str) -> None:
    """Drop the recorded shapes on the head's path; the logits' position axis becomes free."""
    kept = [info for info in graph.value_info if info.name not in names]
    del graph.value_info[:]
    graph.value_info.extend(kept)
    for output in graph.output:
        if output.name == logits and len(output.type.tensor_type.shape.dim) == 3:
            axis = output.type.tensor_type.shape.dim[1]
            axis.Clear()
            axis.dim_param = NUM_LOGITS_INPUT
