"""Training configuration: frozen dataclasses, saved as JSON with every checkpoint."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tenon.context.prompt import Budgets

METHODS = ("lora", "full")
STRATEGIES = ("ddp", "fsdp")  # how several processes share the work (torchrun/accelerate)


@dataclass(frozen=True)
class LoraSettings:
    r: int = 16
    alpha: int = 32
    dropout: float = 0.0
    targets: tuple[str, ...] = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj",
                                "down_proj")


@dataclass(frozen=True)
class TrainConfig:
    base: Path  # transformers checkpoint folder with tokenizer.json
    data: Path  # dataset folder (train.jsonl, validation.jsonl)
    output: Path  # run folder: checkpoints/, merged/, losses
    method: str = "lora"
    lora: LoraSettings = field(default_factory=LoraSettings)
    steps: int = 100
    batch_size: int = 8  # sequences per optimizer step, over all processes
    micro_batch: int = 1  # sequences per forward pass in one process
    learning_rate: float = 2e-4
    warmup_steps: int = 5
    weight_decay: float = 0.0
    max_grad_norm: float = 1.0
    budgets: Budgets = field(default_factory=lambda: Budgets(256, 64, 0))
    max_target_tokens: int = 128
    seed: int = 0
    device: str = "cpu"  # "cpu" or "cuda"
    precision: str = "fp32"  # "fp32" or "bf16" (autocast; master weights stay fp32)
    strategy: str = "ddp"  # with several processes: "ddp" or "fsdp"
    checkpoint_every: int = 10
    keep_checkpoints: int = 2
    validation_every: int = 0  # 0: only at the end
    validation_examples: int = 16
    threads: int = 0  # torch intra-op threads; 0: the default
    progress: bool = True

    def to_json(self) -> str:
        return json.dumps(to_plain(self), indent=1, sort_keys=True)

    def fingerprint(self) -> str:
        """Hash of what decides the weights (not where they are written or how shown)."""
        plain = to_plain(self)
        for volatile in ("output", "progress", "checkpoint_every", "keep_checkpoints",
                         "threads", "validation_every"):
            plain.pop(volatile, None)
        return hashlib.sha256(json.dumps(plain, sort_keys=True).encode()).hexdigest()[:16]


def to_plain(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj):
        return {f.name: to_plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, (tuple, list)):
        return [to_plain(v) for v in obj]
    return obj


def from_plain(data: dict[str, Any]) -> TrainConfig:
    data = dict(data)
    data["lora"] = LoraSettings(**{**data.get("lora", {}),
                                   "targets": tuple(data.get("lora", {}).get(
                                       "targets", LoraSettings().targets))})
    data["budgets"] = Budgets(**data["budgets"]) if "budgets" in data else Budgets(256, 64, 0)
    for key in ("base", "data", "output"):
        data[key] = Path(data[key])
    return TrainConfig(**data)


def load(path: Path) -> TrainConfig:
    return from_plain(json.loads(path.read_text(encoding="utf-8")))


def validate(cfg: TrainConfig) -> None:
    if cfg.method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, not {cfg.method!r}")
    if cfg.strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {STRATEGIES}, not {cfg.strategy!r}")
    if cfg.precision not in ("fp32", "bf16"):
        raise ValueError(f"precision must be fp32 or bf16, not {cfg.precision!r}")
    if cfg.strategy == "fsdp" and cfg.method != "full":
        raise ValueError("FSDP is for full fine-tuning of large bases; use DDP with LoRA")
    if cfg.batch_size % cfg.micro_batch:
        raise ValueError("batch_size must be a multiple of micro_batch")
