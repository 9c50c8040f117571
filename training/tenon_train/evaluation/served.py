"""Models as the server sees them: a bundle on ONNX Runtime, or a torch checkpoint.

``tenon.completion.complete`` takes a :class:`tenon.model.LoadedModel`; a torch model is
wrapped in the same shape (bundle facts, codec, engine), its vocabulary facts read exactly
as the exporter writes them into a manifest, so both run the same pipeline.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tenon.bundle import Architecture, Vocabulary
from tenon.inference.prompt_anchor import PromptAnchors
from tenon.tokenizer import TextCodec
from tenon_train.evaluation.torch_engine import TorchEngine, TorchEngineOptions


@dataclass(frozen=True)
class ManifestView:
    """The part of a bundle manifest the completion pipeline reads."""

    name: str
    vocabulary: Vocabulary
    architecture: Architecture


@dataclass(frozen=True)
class BundleView:
    path: Path
    manifest: ManifestView


@dataclass
class TorchServed:
    """A torch model in the shape of :class:`tenon.model.LoadedModel`."""

    bundle: BundleView
    codec: TextCodec
    engine: TorchEngine
    anchors: PromptAnchors = field(default_factory=PromptAnchors)  # as the server keeps them

    def close(self) -> None:
        self.engine.close()


def load_torch(folder: Path, options: TorchEngineOptions, threads: int = 0) -> TorchServed:
    """Load a transformers checkpoint folder (with ``tokenizer.json``) for evaluation."""
    import torch
    from transformers import AutoModelForCausalLM

    if threads > 0:
        torch.set_num_threads(threads)
    model = AutoModelForCausalLM.from_pretrained(str(folder), dtype=torch.float32)
    model.to(options.device)
    return wrap_torch(model, folder / "tokenizer.json", options, folder)


def wrap_torch(model: Any, tokenizer_file: Path, options: TorchEngineOptions,
               path: Path) -> TorchServed:
    from tenon_train.export.pipeline import architecture_of
    from tenon_train.export.vocabulary import vocabulary_facts

    vocabulary = vocabulary_facts(tokenizer_file, model.config, model.generation_config)
    layers = getattr(model.config, "num_hidden_layers", None) or model.config.n_layer
    manifest = ManifestView(path.name, vocabulary, architecture_of(model.config, layers))
    codec = TextCodec.load(tokenizer_file, vocabulary)
    engine = TorchEngine(model, [*vocabulary.eos_ids, *vocabulary.stop_ids], options)
    return TorchServed(BundleView(path, manifest), codec, engine)


def load_onnx(bundle: Path, graph: str = "", threads: int = 0):
    """Load a bundle with the server's own loader (hashes checked); CPU."""
    from tenon.model import load_model
    from tenon.settings import Settings

    model = load_model(Settings(bundle_path=str(bundle), device="cpu", threads=threads))
    if graph and graph != model.engine.variant.file:
        from tenon.inference.onnx_engine import EngineOptions, OnnxEngine

        model.engine = OnnxEngine(model.bundle, EngineOptions(device="cpu", threads=threads,
                                                              graph=graph))
    return model


def fingerprint_checkpoint(folder: Path) -> str:
    """A content hash of a checkpoint's weights and tokenizer (for evaluation caching)."""
    digest = hashlib.sha256()
    for name in sorted(p.name for p in folder.iterdir() if p.suffix in (".safetensors", ".json")):
        if name in ("config.json", "generation_config.json", "tokenizer.json") or name.endswith(
                ".safetensors"):
            digest.update(name.encode())
            digest.update(_file_sha(folder / name).encode())
    return digest.hexdigest()[:16]


def fingerprint_bundle(folder: Path, graph: str) -> str:
    manifest = json.loads((folder / "manifest.json").read_text())
    files = manifest["files"]
    names = sorted(n for n in files if n == "tokenizer.json" or n.startswith(graph))
    digest = hashlib.sha256(json.dumps([graph, *[files[n]["sha256"] for n in names]]).encode())
    return digest.hexdigest()[:16]


def _file_sha(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 22):
            digest.update(block)
    return digest.hexdigest()
