"""Tiny training configurations and helpers shared by the training tests."""

from __future__ import annotations

from pathlib import Path

from tenon.context.prompt import Budgets
from tenon_train.train.config import LoraSettings, TrainConfig


def tiny_train_config(base: Path, data: Path, output: Path, **overrides) -> TrainConfig:
    values = {
        "base": base, "data": data, "output": output, "method": "lora",
        "lora": LoraSettings(r=4, alpha=8), "steps": 6, "batch_size": 4, "micro_batch": 1,
        "learning_rate": 3e-3, "warmup_steps": 1, "budgets": Budgets(48, 16, 0),
        "max_target_tokens": 48, "checkpoint_every": 2, "validation_every": 3,
        "validation_examples": 4, "threads": 1, "progress": False,
    }
    return TrainConfig(**{**values, **overrides})


def trained_weights(folder: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(str(folder / "model.safetensors"))


def max_difference(a: dict, b: dict) -> float:
    assert a.keys() == b.keys()
    return max(float((a[k].float() - b[k].float()).abs().max()) for k in a)
