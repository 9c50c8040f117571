"""`tenon-train build-default`: the default bundle, built once and cached by its inputs.

The cache key hashes everything that decides the bundle's bytes: the base model's GGUF
hash, the export recipe version and settings, and the versions of the libraries that
export and quantize it. A second run with the same inputs finds the bundle and returns at
once.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

from tenon.bundle import BundleError, load_bundle
from tenon.paths import TenonHome
from tenon_train.export.pipeline import ExportConfig, export_model, summary
from tenon_train.publish import current, switch_current
from tenon_train.sources.base_model import resolve_base
from tenon_train.sources.gguf_wheels import QWEN_CODER_05B

log = logging.getLogger(__name__)
RECIPE_VERSION = 1  # bump when the export recipe changes the bundle's content


def cache_key(quantize: str) -> str:
    import onnxruntime
    import torch
    import transformers

    inputs = {
        "gguf": QWEN_CODER_05B.gguf_sha256,
        "recipe": RECIPE_VERSION,
        "quantize": quantize,
        "transformers": transformers.__version__,
        "torch": torch.__version__.split("+")[0],
        "onnxruntime": onnxruntime.__version__,
    }
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()[:12]


def build_default(home: TenonHome, quantize: str = "int8", publish: str = "if-none",
                  progress: bool = True) -> Path:
    """Build (or find) the default bundle; make it current per ``publish``."""
    target = home.models / f"{QWEN_CODER_05B.name}-{quantize}-{cache_key(quantize)}"
    try:
        load_bundle(target, check_hashes=False)
        log.info("default bundle already built: %s", target)
    except BundleError:
        _build(home, target, quantize, progress)
    if publish == "always" or (publish == "if-none" and current(home) is None):
        switch_current(home, target)
        log.info("published: %s is now current", target.name)
    return target


def _build(home: TenonHome, target: Path, quantize: str, progress: bool) -> None:
    import torch
    from transformers import AutoModelForCausalLM

    base = resolve_base("default", home)
    model = AutoModelForCausalLM.from_pretrained(str(base.folder), dtype=torch.float32)
    cfg = ExportConfig(
        output=target, name=QWEN_CODER_05B.name, quantize=quantize, progress=progress,
        provenance={"base": base.provenance, "training_run": None},
    )
    export_model(model, base.folder / "tokenizer.json", cfg)
    log.info("%s", summary(target))
