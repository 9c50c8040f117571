"""An fp16 variant of a bundle, for the CUDA execution provider (``bench/gpu.sh``).

ONNX Runtime's CUDA ``GroupQueryAttention`` runs in fp16 (or bf16) only, so the fp32 graph
would leave attention on the CPU. This converts the bundle's fp32 graph to fp16 with ONNX
Runtime's converter, keeping the rotary angles (position × inverse frequency, then cos and
sin) in fp32: in fp16 a position of 2000 radians has a resolution of about one radian.
The result is a derived bundle under ``$TENON_HOME/bench/`` (the source is not touched),
its graph ``fp16`` for device ``cuda``, dtype ``float16`` (KV cache and logits in fp16).

    python -m bench.fp16 [--bundle PATH]   # prints the derived bundle's folder
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

from bench.bundles import private_copy
from tenon.bundle import Bundle, file_facts, load_bundle
from tenon.paths import TenonHome, default_bundle_path

KEEP_FP32_OPS = ("Cos", "Sin")


def rotary_nodes(graph) -> list[str]:
    """Names of the nodes that compute the rotary angles: everything upstream of Cos/Sin."""
    producer = {out: node for node in graph.node for out in node.output}
    names, stack = set(), [n for n in graph.node if n.op_type in KEEP_FP32_OPS]
    while stack:
        node = stack.pop()
        if node.name in names:
            continue
        names.add(node.name)
        stack += [producer[i] for i in node.input if i in producer]
    return sorted(names)


def convert(src: Path, dst: Path) -> None:
    import onnx
    from onnxruntime.transformers.float16 import convert_float_to_float16

    model = onnx.load(str(src), load_external_data=True)
    model = convert_float_to_float16(model, keep_io_types=False, disable_shape_infer=True,
                                     node_block_list=rotary_nodes(model.graph))
    onnx.save_model(model, str(dst), save_as_external_data=True, all_tensors_to_one_file=True,
                    location=dst.name + ".data")


def derived_fp16(bundle: Bundle, log=print) -> Bundle:
    if "fp16" in bundle.manifest.graphs:
        return bundle
    fp32 = bundle.manifest.graphs.get("fp32")
    if fp32 is None:
        raise SystemExit("the bundle has no fp32 graph to convert to fp16")
    key = bundle.manifest.files[fp32.file + ".data"]["sha256"][:12]
    folder = TenonHome.from_env().root / "bench" / f"{bundle.manifest.name}-fp16-{key}"
    if (folder / "manifest.json").is_file():
        return load_bundle(folder, check_hashes=False)
    log(f"converting {fp32.file} to fp16 into {folder} (once)")
    work = folder.with_name(folder.name + ".partial")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    convert(private_copy(bundle, fp32.file, work / "src"), work / "decoder.fp16.onnx")
    shutil.rmtree(work / "src")
    tokenizer = bundle.manifest.vocabulary.file
    shutil.copyfile(bundle.file(tokenizer), work / tokenizer)
    data = json.loads(bundle.file("manifest.json").read_text())
    data["graphs"] = {"fp16": {"file": "decoder.fp16.onnx", "dtype": "float16",
                               "quantization": None, "devices": ["cuda"]}}
    data["files"] = file_facts(work, [p.name for p in work.iterdir() if p.is_file()])
    data["provenance"] = {**data.get("provenance", {}),
                          "derived": f"fp16 of {bundle.path.name}/{fp32.file} by bench/fp16.py"}
    (work / "manifest.json").write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    if folder.exists():
        shutil.rmtree(folder)
    work.rename(folder)
    return load_bundle(folder, check_hashes=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fp16", description=__doc__)
    parser.add_argument("--bundle", default="")
    args = parser.parse_args(argv)
    path = Path(args.bundle).expanduser() if args.bundle else default_bundle_path()
    derived = derived_fp16(load_bundle(path.resolve(), check_hashes=False),
                           lambda m: print(m, file=sys.stderr))
    print(derived.path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
