"""`tenon-train train`: the training loop, for one process or many (torchrun/accelerate).

The loss is the sum of token losses over the target tokens of the whole step's batch,
divided by their number: every process computes that number from the shared data, so two
processes that each take half the batch produce, after DDP averages their gradients, the
same update as one process taking all of it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from tqdm import tqdm

from tenon_train.train import checkpoint, data
from tenon_train.train.config import TrainConfig, validate
from tenon_train.train.model import COMPLETE, load_for_training, save_merged, trainable_parameters
from tenon_train.train.render import IGNORE, renderer_for

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainResult:
    merged: Path
    history: list[dict]
    tokens_per_second: float
    skipped_examples: int


def make_accelerator(cfg: TrainConfig):
    from accelerate import Accelerator

    kwargs = {"cpu": cfg.device == "cpu"}
    if cfg.strategy == "fsdp":
        from accelerate import FullyShardedDataParallelPlugin

        kwargs["fsdp_plugin"] = FullyShardedDataParallelPlugin()
    return Accelerator(**kwargs)


def token_loss_sum(model, items: list[data.Rendered], pad_id: int, device) -> torch.Tensor:
    """Sum of cross-entropy over the target tokens (the output head only runs on the
    positions that predict them)."""
    ids, mask, labels = (t.to(device) for t in data.collate(items, pad_id))
    first = min(item.first_target for item in items)
    keep = ids.shape[1] - (first - 1)
    logits = model(input_ids=ids, attention_mask=mask, logits_to_keep=keep).logits
    predicted = logits[:, :-1, :].float()
    targets = labels[:, first:]
    return torch.nn.functional.cross_entropy(
        predicted.reshape(-1, predicted.shape[-1]), targets.reshape(-1),
        ignore_index=IGNORE, reduction="sum")


def autocast(cfg: TrainConfig):
    if cfg.precision == "bf16":
        return torch.autocast(device_type=cfg.device, dtype=torch.bfloat16)
    return contextlib.nullcontext()


class Trainer:
    def __init__(self, cfg: TrainConfig) -> None:
        validate(cfg)
        self.cfg = cfg
        self.accelerator = make_accelerator(cfg)
        if cfg.batch_size % (self.accelerator.num_processes * cfg.micro_batch):
            raise ValueError(f"batch_size {cfg.batch_size} must split evenly over "
                             f"{self.accelerator.num_processes} processes × micro_batch "
                             f"{cfg.micro_batch}")
        from accelerate.utils import set_seed

        if cfg.threads > 0:
            torch.set_num_threads(cfg.threads)
        set_seed(cfg.seed)
        model = load_for_training(cfg)
        self.renderer = renderer_for(cfg.base / "tokenizer.json", model.config,
                                     model.generation_config, cfg.budgets,
                                     cfg.max_target_tokens)
        self.pad_id = self.renderer.tokenizer.token_to_id(self.renderer.end_token)
        self.train_data, self.validation = self._data()
        optimizer = torch.optim.AdamW(trainable_parameters(model), lr=cfg.learning_rate,
                                      weight_decay=cfg.weight_decay)
        self.model, self.optimizer = self.accelerator.prepare(model, optimizer)
        from transformers import get_cosine_schedule_with_warmup

        self.scheduler = get_cosine_schedule_with_warmup(self.optimizer, cfg.warmup_steps,
                                                         cfg.steps)
        self.history: list[dict] = []
        self.start_step = 0

    def _data(self) -> tuple[data.TokenData, data.TokenData | None]:
        cfg, acc = self.cfg, self.accelerator
        cfg.output.mkdir(parents=True, exist_ok=True)
        needed = cfg.steps * cfg.batch_size
        paths = [(cfg.output / "train_tokens.json", cfg.data / "train.jsonl", needed, cfg.seed),
                 (cfg.output / "validation_tokens.json", cfg.data / "validation.jsonl",
                  cfg.validation_examples, cfg.seed + 1)]
        loaded = []
        for path, source, count, seed in paths:
            if not source.is_file() or count == 0:
                loaded.append(None)
                continue
            with acc.main_process_first():
                loaded.append(data.prepared(path, source, self.renderer, count, seed,
                                            cfg.progress and acc.is_main_process))
        if loaded[0] is None:
            raise ValueError(f"no training data: {cfg.data / 'train.jsonl'} is missing")
        return loaded[0], loaded[1]

    def resume(self) -> None:
        found = checkpoint.latest(self.cfg.output / "checkpoints")
        if found is None:
            return
        saved = json.loads((found / "config.json").read_text(encoding="utf-8"))
        from tenon_train.train.config import from_plain

        if from_plain(saved).fingerprint() != self.cfg.fingerprint():
            raise ValueError(f"{found} was made with another configuration; use a new output "
                             "folder or delete its checkpoints/ to start over")
        self.start_step, self.history = checkpoint.restore(
            found, self.accelerator, self.model, self.optimizer, self.scheduler)
        log.info("resumed from %s (step %d)", found.name, self.start_step)

    def step(self, step: int) -> dict:
        cfg, acc = self.cfg, self.accelerator
        started = time.perf_counter()
        batch = self.train_data.batch(step, cfg.batch_size)
        targets = sum(item.target_tokens for item in batch)
        share = cfg.batch_size // acc.num_processes
        mine = batch[acc.process_index * share:(acc.process_index + 1) * share]
        micro = [mine[i:i + cfg.micro_batch] for i in range(0, len(mine), cfg.micro_batch)]
        self.model.train()
        loss_sum = torch.zeros((), device=acc.device)
        for k, items in enumerate(micro):
            sync = contextlib.nullcontext() if k == len(micro) - 1 else acc.no_sync(self.model)
            with sync, autocast(cfg):
                loss = token_loss_sum(self.model, items, self.pad_id, acc.device)
                acc.backward(loss * acc.num_processes / targets)
            loss_sum += loss.detach()
        if cfg.max_grad_norm > 0:
            acc.clip_grad_norm_(self.model.parameters(), cfg.max_grad_norm)
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        total = acc.reduce(loss_sum, reduction="sum").item()
        seconds = time.perf_counter() - started
        tokens = sum(len(item.input_ids) for item in batch)
        return {"step": step + 1, "loss": round(total / targets, 5),
                "lr": self.scheduler.get_last_lr()[0], "tokens": tokens,
                "target_tokens": targets, "seconds": round(seconds, 3)}

    def validation_loss(self) -> float | None:
        if self.validation is None:
            return None
        self.model.eval()
        total, count = 0.0, 0
        with torch.no_grad(), autocast(self.cfg):
            for item in self.validation.items:
                total += token_loss_sum(self.model, [item], self.pad_id,
                                        self.accelerator.device).item()
                count += item.target_tokens
        return round(total / max(count, 1), 5)

    def run(self) -> TrainResult:
        cfg, acc = self.cfg, self.accelerator
        self.resume()
        if acc.is_main_process:
            (cfg.output / "train_config.json").write_text(cfg.to_json() + "\n", encoding="utf-8")
            (cfg.output / "processes.json").write_text(json.dumps({
                "processes": acc.num_processes, "backend": acc.state.backend,
                "distributed_type": str(acc.distributed_type), "device": str(acc.device),
                "threads": torch.get_num_threads()}) + "\n", encoding="utf-8")
        if self.start_step == 0 and cfg.validation_every:
            self.history.append({"step": 0, "validation_loss": self.validation_loss()})
        bar = tqdm(total=cfg.steps, initial=self.start_step, desc="train", unit="step",
                   disable=not (cfg.progress and acc.is_main_process))
        for step in range(self.start_step, cfg.steps):
            record = self.step(step)
            done = step + 1
            if done == cfg.steps or (cfg.validation_every and done % cfg.validation_every == 0):
                record["validation_loss"] = self.validation_loss()
            self.history.append(record)
            bar.update(1)
            bar.set_postfix(loss=record["loss"], tok_s=round(record["tokens"] /
                                                               record["seconds"], 1))
            if done % cfg.checkpoint_every == 0 or done == cfg.steps:
                checkpoint.save(cfg.output / "checkpoints", done, acc, self.model, self.optimizer,
                                self.scheduler, self.history, cfg.to_json(), cfg.keep_checkpoints)
        bar.close()
        return self.finish()

    def finish(self) -> TrainResult:
        cfg, acc = self.cfg, self.accelerator
        target = cfg.output / "merged"
        fsdp = getattr(acc.state, "fsdp_plugin", None) is not None
        state = acc.get_state_dict(self.model) if fsdp else None  # gathers the shards
        if acc.is_main_process:
            (cfg.output / "history.json").write_text(json.dumps(self.history, indent=1) + "\n",
                                                     encoding="utf-8")
            if not (target / COMPLETE).is_file():
                save_merged(acc.unwrap_model(self.model), cfg, target, state)
        acc.wait_for_everyone()
        steps = [h for h in self.history if "tokens" in h]
        speed = sum(h["tokens"] for h in steps) / max(sum(h["seconds"] for h in steps), 1e-9)
        return TrainResult(target, self.history, round(speed, 2), self.train_data.skipped)


def main(cfg: TrainConfig) -> TrainResult:
    return Trainer(cfg).run()
