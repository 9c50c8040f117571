"""Refresh configurations sized for the machine: 2 CPU cores in about an hour, or a GPU.

CPU (the default): LoRA r=16 on every linear layer of the 0.5B base, bf16 autocast with
fp32 master weights, 30 steps × 8 sequences with prompts cut to 192 prefix / 64 suffix
tokens and targets up to 128 tokens: about 240 examples, ~70k tokens. At the ~20-40
tokens/s measured on 2 cores that is 30-60 minutes of training; the dataset takes a few
minutes and each evaluation of a model 10-60 minutes more (see bench/results).

GPU (``--device cuda``): the server's full prompt budgets (1024/256/256), 1000 steps × 32
sequences, larger dataset and held-out split; several GPUs through ``--nproc-per-node``
(torchrun, DDP) or ``--strategy fsdp`` with ``--method full`` for larger bases.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from tenon.context.prompt import Budgets
from tenon_train.dataset.build import DatasetConfig
from tenon_train.evaluation.main import EvalConfig
from tenon_train.refresh import RefreshConfig, with_run
from tenon_train.train.config import TrainConfig


def cpu(run: Path, base: Path) -> RefreshConfig:
    dataset = DatasetConfig(output=run / "data", heldout_cases=100)
    train = TrainConfig(base=base, data=run / "data", output=run / "train", method="lora",
                        steps=30, batch_size=8, micro_batch=1, learning_rate=3e-4,
                        warmup_steps=3, budgets=Budgets(192, 64, 0), max_target_tokens=128,
                        precision="bf16", checkpoint_every=5, validation_every=10,
                        validation_examples=16)
    evaluation = EvalConfig(batch=8)
    return with_run(RefreshConfig(run=run, dataset=dataset, train=train, evaluation=evaluation),
                    run)


def gpu(run: Path, base: Path) -> RefreshConfig:
    cfg = cpu(run, base)
    dataset = replace(cfg.dataset, max_files_per_group=2000, max_train=60000,
                      max_validation=1000, heldout_cases=400)
    train = replace(cfg.train, device="cuda", steps=1000, batch_size=32, micro_batch=8,
                    learning_rate=1e-4, warmup_steps=50, budgets=Budgets(1024, 256, 256),
                    max_target_tokens=256, checkpoint_every=100, validation_every=100,
                    validation_examples=200)
    return with_run(replace(cfg, dataset=dataset, train=train,
                            evaluation=replace(cfg.evaluation, batch=32)), run)


PRESETS = {"cpu": cpu, "gpu": gpu}
