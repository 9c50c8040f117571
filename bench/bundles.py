"""The bundles the benchmark compares: the default one, and weight-only variants of it.

The default bundle carries an int8 graph (CPU) and the fp32 graph. The 4-bit and 8-bit
weight-only (MatMulNBits) variants are quantized from that fp32 graph with the exporter's
own quantization, once, into ``$TENON_HOME/bench/`` (keyed by the fp32 graph's checksum);
the bundles under ``models/`` are never touched.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tenon.bundle import Bundle, file_facts, load_bundle
from tenon.paths import TenonHome


def derived(bundle: Bundle, method: str, log=print) -> Bundle:
    """A bundle with the ``method`` ("q4" or "q8") graph of ``bundle``'s fp32 graph (built
    on first use)."""
    fp32 = bundle.manifest.graphs.get("fp32")
    if method in bundle.manifest.graphs:
        return bundle
    if fp32 is None:
        raise SystemExit(f"the bundle has no fp32 graph to quantize to {method}")
    key = bundle.manifest.files[fp32.file + ".data"]["sha256"][:12]
    folder = TenonHome.from_env().root / "bench" / f"{bundle.manifest.name}-{method}-{key}"
    if (folder / "manifest.json").is_file():
        return load_bundle(folder, check_hashes=False)
    from tenon_train.export.quantize import quantize

    log(f"quantizing {fp32.file} to {method} (MatMulNBits) into {folder} (once)")
    work = folder.with_name(folder.name + ".partial")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    graph = f"decoder.{method}.onnx"
    quantize(private_copy(bundle, fp32.file, work / "src"), work / graph, method)
    shutil.rmtree(work / "src")
    tokenizer = bundle.manifest.vocabulary.file
    shutil.copyfile(bundle.file(tokenizer), work / tokenizer)
    data = json.loads(bundle.file("manifest.json").read_text())
    data["graphs"] = {method: {"file": graph, "dtype": "float32",
                               "quantization": method, "devices": ["cpu"]}}
    names = [p.name for p in work.iterdir() if p.is_file()]
    data["files"] = file_facts(work, names)
    data["provenance"] = {**data.get("provenance", {}), "derived":
                          f"{method} of {bundle.path.name}/{fp32.file} by bench/bundles.py"}
    (work / "manifest.json").write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    if folder.exists():
        shutil.rmtree(folder)
    work.rename(folder)
    return load_bundle(folder, check_hashes=False)


def private_copy(bundle: Bundle, graph_file: str, folder: Path) -> Path:
    """A copy of a graph and its data: `onnx` refuses external data files with several hard
    links ("potential hardlink attack"), and published bundles are hard-linked."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in (graph_file, graph_file + ".data"):
        if bundle.file(name).is_file():
            shutil.copyfile(bundle.file(name), folder / name)
    return folder / graph_file


def bundle_bytes(bundle: Bundle, graph: str) -> int:
    """Bytes on disk of what serving ``graph`` reads (graph, external data, tokenizer)."""
    variant = bundle.manifest.graphs[graph]
    names = [bundle.manifest.vocabulary.file, variant.file]
    names += [n for n in bundle.manifest.files if n.startswith(variant.file + ".")]
    return sum(bundle.file(n).stat().st_size for n in names)


def torch_source(bundle: Bundle) -> Path | None:
    """The fp32 transformers checkpoint the bundle was exported from, if it is cached."""
    base = bundle.manifest.provenance.get("base", {})
    digest = base.get("gguf_sha256", "")
    root = TenonHome.from_env().base
    if not root.is_dir():
        return None
    for folder in sorted(root.iterdir()):
        if (folder / "config.json").is_file() and digest and folder.name.endswith(digest[:12]):
            return folder
    return None
