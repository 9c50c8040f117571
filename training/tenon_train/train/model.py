"""The model being trained: the base checkpoint, with LoRA adapters or fully trainable."""

from __future__ import annotations

import shutil
from pathlib import Path

import torch

from tenon_train.train.config import TrainConfig

COMPLETE = "TENON_COMPLETE"


def load_for_training(cfg: TrainConfig) -> torch.nn.Module:
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(str(cfg.base), dtype=torch.float32)
    model.config.use_cache = False
    if cfg.method == "full":
        return model
    from peft import LoraConfig, get_peft_model

    lora = LoraConfig(r=cfg.lora.r, lora_alpha=cfg.lora.alpha, lora_dropout=cfg.lora.dropout,
                      target_modules=list(cfg.lora.targets), task_type="CAUSAL_LM")
    return get_peft_model(model, lora)


def trainable_parameters(model: torch.nn.Module) -> list[torch.nn.Parameter]:
    return [p for p in model.parameters() if p.requires_grad]


def save_merged(model: torch.nn.Module, cfg: TrainConfig, target: Path,
                state_dict: dict | None = None) -> Path:
    """Write a plain transformers checkpoint (LoRA merged in) with the tokenizer and the
    training configuration; the ``TENON_COMPLETE`` marker is written last."""
    work = target.with_name(target.name + ".partial")
    shutil.rmtree(work, ignore_errors=True)
    merged = model.merge_and_unload() if hasattr(model, "merge_and_unload") else model
    merged.config.use_cache = True
    merged.save_pretrained(work, state_dict=state_dict)
    shutil.copyfile(cfg.base / "tokenizer.json", work / "tokenizer.json")
    (work / "tenon_training.json").write_text(cfg.to_json() + "\n", encoding="utf-8")
    (work / COMPLETE).write_text(cfg.fingerprint() + "\n", encoding="utf-8")
    shutil.rmtree(target, ignore_errors=True)
    work.rename(target)
    return target
