"""Which execution provider actually runs each node of the decode graph (``bench/gpu.sh``).

ONNX Runtime places a node it cannot run on CUDA on the CPU, silently. This loads the graph
as the engine does (rewritten for in-place KV, buffers on the device, IO binding), runs a
prompt and a few decode steps with profiling on, and counts the nodes each provider ran,
naming the operators that fell back to the CPU. Exit status 1 if the session's first
provider is not CUDA or if any compute-heavy node (MatMul, attention) ran on the CPU.

    python -m bench.gpu_check [--bundle PATH]
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort

from tenon.bundle import load_bundle
from tenon.inference.kv_buffers import BoundKv
from tenon.inference.session import EXTERNAL_DATA_FOLDER, _graph_source, session_options
from tenon.paths import default_bundle_path

HEAVY = ("MatMul", "Gemm", "GroupQueryAttention", "MultiHeadAttention", "MatMulNBits",
         "SkipSimplifiedLayerNormalization")


def placement(profile: Path) -> dict[str, collections.Counter]:
    by_provider: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    seen = set()
    for event in json.loads(profile.read_text()):
        args = event.get("args", {})
        if event.get("cat") != "Node" or "provider" not in args:
            continue
        name = event.get("name", "").rsplit("_kernel_time", 1)[0]
        if name in seen:
            continue
        seen.add(name)
        by_provider[args["provider"]][args.get("op_name", "?")] += 1
    return by_provider


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.gpu_check", description=__doc__)
    parser.add_argument("--bundle", default="")
    args = parser.parse_args(argv)
    path = Path(args.bundle).expanduser() if args.bundle else default_bundle_path()
    bundle = load_bundle(path.resolve(), check_hashes=False)
    variant = bundle.graph_for("cuda")
    print(f"available providers: {ort.get_available_providers()}")
    model, note = _graph_source(bundle, bundle.file(variant.file), True)
    opts = session_options(0)
    opts.add_session_config_entry(EXTERNAL_DATA_FOLDER, str(bundle.path))
    opts.enable_profiling = True
    session = ort.InferenceSession(model, opts, providers=["CUDAExecutionProvider",
                                                          "CPUExecutionProvider"])
    first = session.get_providers()[0]
    print(f"graph {variant.file} ({variant.dtype}), {note}; session providers: "
          f"{session.get_providers()}")
    dtype = np.float16 if variant.dtype == "float16" else np.float32
    store = BoundKv(session, bundle.manifest.io, bundle.manifest.architecture, dtype,
                    device="cuda" if first == "CUDAExecutionProvider" else "cpu")
    vocab = bundle.manifest.architecture.vocab_size
    logits = store.forward([(1000 + i) % vocab for i in range(128)])
    for _ in range(8):
        logits = store.forward([int(np.argmax(logits))])
    counts = placement(Path(session.end_profiling()))
    heavy_on_cpu = 0
    for provider, ops in sorted(counts.items()):
        print(f"{provider}: {sum(ops.values())} nodes: {dict(ops.most_common())}")
        if provider == "CPUExecutionProvider":
            heavy_on_cpu = sum(n for op, n in ops.items() if op in HEAVY)
    ok = first == "CUDAExecutionProvider" and heavy_on_cpu == 0
    print(f"provider that ran the model: {first}; compute-heavy nodes on the CPU: "
          f"{heavy_on_cpu} -> {'OK' if ok else 'NOT ON THE GPU'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
