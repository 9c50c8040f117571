"""Broken model bundles, made by really breaking a copy of a good one.

File faults truncate, corrupt or replace files (and, where the fault is meant to get past
the checksums, rewrite the manifest's sizes and hashes as a broken export would). Run-time
faults rewrite the decode graph so that ONNX Runtime itself fails once the sequence grows
past a limit: one variant indexes out of bounds (an ONNX Runtime error in the middle of
generation), the other asks for a 128 TiB tensor (out of memory). The server runs these
graphs unmodified; nothing is mocked.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tenon.bundle import file_facts

GRAPH = "decoder.int8.onnx"  # the graph the CPU serves
PAST_KEY = "input.cache.layers.0.keys"


def copy_bundle(good: Path, target: Path) -> Path:
    shutil.copytree(good, target)
    return target


def edit_manifest(bundle: Path, change) -> None:
    path = bundle / "manifest.json"
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data, indent=2))


def refresh_facts(bundle: Path, *names: str) -> None:
    """Record the current size and sha256 of ``names``, as an export that went wrong would."""
    edit_manifest(bundle, lambda d: d["files"].update(file_facts(bundle, list(names))))


def truncated(good: Path, target: Path, refresh: bool = False) -> Path:
    bundle = copy_bundle(good, target)
    data = bundle / f"{GRAPH}.data"
    data.write_bytes(data.read_bytes()[: data.stat().st_size // 2])
    if refresh:
        refresh_facts(bundle, f"{GRAPH}.data")
    return bundle


def corrupted(good: Path, target: Path) -> Path:
    bundle = copy_bundle(good, target)
    data = bundle / f"{GRAPH}.data"
    raw = bytearray(data.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    data.write_bytes(bytes(raw))
    return bundle


def from_the_future(good: Path, target: Path) -> Path:
    bundle = copy_bundle(good, target)
    edit_manifest(bundle, lambda d: d.update(schema_version=99))
    return bundle


def wrong_tokenizer(good: Path, target: Path) -> Path:
    """Another model's tokenizer (no FIM tokens, another vocabulary), checksums refreshed."""
    from tests.support.tiny import train_tokenizer

    bundle = copy_bundle(good, target)
    train_tokenizer(with_fim=False, vocab_size=300).save(str(bundle / "tokenizer.json"))
    refresh_facts(bundle, "tokenizer.json")
    return bundle


def _past_length(graph, helper, prefix: str) -> str:
    """Add nodes computing the past length (dim 2 of layer 0's past keys); its name."""
    from onnx import TensorProto

    graph.node.extend([
        helper.make_node("Shape", [PAST_KEY], [f"{prefix}shape"]),
        helper.make_node("Constant", [], [f"{prefix}two"],
                         value=helper.make_tensor(f"{prefix}two_v", TensorProto.INT64, [], [2])),
        helper.make_node("Gather", [f"{prefix}shape", f"{prefix}two"], [f"{prefix}past"], axis=0),
    ])
    return f"{prefix}past"


def _add_to_logits(graph, helper, value: str, prefix: str) -> None:
    """logits + 0 * value: the fault node's output is used, so it is never pruned."""
    from onnx import TensorProto

    logits = next(o for o in graph.output if o.name == "logits")
    for node in graph.node:
        node.output[:] = [f"{prefix}logits_in" if o == "logits" else o for o in node.output]
    graph.node.extend([
        helper.make_node("Cast", [value], [f"{prefix}f"], to=TensorProto.FLOAT),
        helper.make_node("Constant", [], [f"{prefix}zero"],
                         value=helper.make_tensor(f"{prefix}zero_v", TensorProto.FLOAT, [], [0])),
        helper.make_node("Mul", [f"{prefix}f", f"{prefix}zero"], [f"{prefix}nothing"]),
        helper.make_node("Add", [f"{prefix}logits_in", f"{prefix}nothing"], [logits.name]),
    ])


def failing_at(good: Path, target: Path, limit: int, out_of_memory: bool = False) -> Path:
    """A bundle whose graph fails in ONNX Runtime once the past length reaches ``limit``."""
    import onnx
    from onnx import TensorProto, helper

    bundle = copy_bundle(good, target)
    model = onnx.load(str(bundle / GRAPH), load_external_data=False)
    graph, p = model.graph, "tenon_fault_"
    past = _past_length(graph, helper, p)
    if out_of_memory:  # max(past - limit + 1, 0) * 2^45 floats: nothing, then 128 TiB
        graph.node.extend([
            helper.make_node("Constant", [], [f"{p}limit"], value=helper.make_tensor(
                f"{p}limit_v", TensorProto.INT64, [], [limit - 1])),
            helper.make_node("Sub", [past, f"{p}limit"], [f"{p}over"]),
            helper.make_node("Constant", [], [f"{p}none"], value=helper.make_tensor(
                f"{p}none_v", TensorProto.INT64, [], [0])),
            helper.make_node("Max", [f"{p}over", f"{p}none"], [f"{p}count"]),
            helper.make_node("Constant", [], [f"{p}huge"], value=helper.make_tensor(
                f"{p}huge_v", TensorProto.INT64, [], [2**45])),
            helper.make_node("Mul", [f"{p}count", f"{p}huge"], [f"{p}size"]),
            helper.make_node("Unsqueeze", [f"{p}size", f"{p}none"], [f"{p}shape1"]),
            helper.make_node("ConstantOfShape", [f"{p}shape1"], [f"{p}block"]),
            helper.make_node("ReduceSum", [f"{p}block"], [f"{p}value"], keepdims=0),
        ])
    else:  # zeros[limit][past]: fine below the limit, out of bounds from it on
        graph.node.extend([
            helper.make_node("Constant", [], [f"{p}table"], value=helper.make_tensor(
                f"{p}table_v", TensorProto.INT64, [limit], [0] * limit)),
            helper.make_node("Gather", [f"{p}table", past], [f"{p}value"], axis=0),
        ])
    _add_to_logits(graph, helper, f"{p}value", p)
    onnx.save(model, str(bundle / GRAPH))
    refresh_facts(bundle, GRAPH)
    return bundle
