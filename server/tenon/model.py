"""A loaded model: the validated bundle, its tokenizer and a running engine."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import onnxruntime as ort

from tenon.bundle import Bundle, BundleError, load_bundle, used_files, verify_hashes
from tenon.inference.onnx_engine import EngineOptions, OnnxEngine, choose_providers, select_variant
from tenon.inference.prompt_anchor import PromptAnchors
from tenon.inference.recent import RecentCompletions
from tenon.paths import default_bundle_path
from tenon.settings import Settings
from tenon.tokenizer import TextCodec


@dataclass
class LoadedModel:
    bundle: Bundle
    codec: TextCodec
    engine: OnnxEngine
    load_ms: float
    anchors: PromptAnchors = field(default_factory=PromptAnchors)  # FIM prompts kept while typing
    recent: RecentCompletions = field(default_factory=RecentCompletions)  # typed-through offers
    fingerprint: tuple[str, int, int] | None = None  # manifest path, mtime, size (reload watch)

    def describe(self) -> dict[str, Any]:
        manifest = self.bundle.manifest
        return {
            "name": manifest.name,
            "path": str(self.bundle.path),
            "graph": self.engine.variant.file,
            "quantization": self.engine.variant.quantization,
            "provider": self.engine.provider,
            "providerNote": self.engine.provider_note,
            "fim": manifest.vocabulary.fim is not None,
            "kvCache": self.engine.kv_note,  # in place, or copied per step and why
            "loadMs": round(self.load_ms),
        }


def resolve_bundle_path(settings: Settings) -> Path:
    return Path(settings.bundle_path).expanduser() if settings.bundle_path else (
        default_bundle_path()
    )


def load_model(settings: Settings, check_hashes: bool = True) -> LoadedModel:
    """Load, validate and start the bundle the settings name (BundleError/EngineError)."""
    started = time.perf_counter()
    bundle = load_bundle(resolve_bundle_path(settings).resolve(), check_hashes=False)
    options = EngineOptions(device=settings.device, threads=settings.threads)
    choice = choose_providers(options.device, ort.get_available_providers())
    names = used_files(bundle.manifest, select_variant(bundle, options, choice))
    with ThreadPoolExecutor(1, "tenon-hash") as pool:
        # hash what this device reads (the sizes of every file were checked) on another core
        # while the engine loads: a mismatch still fails the load, and explains a load error
        # better than the load error itself
        hashing = pool.submit(verify_hashes, bundle, names if check_hashes else [])
        try:
            codec = TextCodec.load(bundle.file(bundle.manifest.vocabulary.file),
                                   bundle.manifest.vocabulary)
            # token texts (for token healing) are built while the engine loads, not on request
            threading.Thread(target=codec.token_texts, name="tenon-token-texts",
                             daemon=True).start()
            engine = OnnxEngine(bundle, options)
        except Exception:
            hashing.result()
            raise
        try:
            hashing.result()
        except BundleError:
            engine.close()
            raise
    manifest = (bundle.path / "manifest.json").stat()
    return LoadedModel(bundle, codec, engine, (time.perf_counter() - started) * 1000,
                       fingerprint=(str(bundle.path), manifest.st_mtime_ns, manifest.st_size))
