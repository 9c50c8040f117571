"""Checkpoints that survive a kill: written to a temporary folder, then renamed.

A checkpoint holds the trainable weights (the LoRA adapter, or every weight for full
fine-tuning), the optimizer and scheduler state, the random states, the step, the loss
history and the configuration. Only complete checkpoints (renamed into place) are ever
read back. With FSDP, accelerate's own sharded ``save_state`` is used instead.
"""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch

PREFIX = "step-"


def trainable_state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {n: p.detach().cpu().clone() for n, p in model.named_parameters() if p.requires_grad}


def rng_state() -> dict[str, Any]:
    return {"python": random.getstate(), "numpy": np.random.get_state(),
            "torch": torch.get_rng_state()}


def set_rng_state(state: dict[str, Any]) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])


def latest(folder: Path) -> Path | None:
    found = sorted(p for p in folder.glob(f"{PREFIX}*") if p.is_dir() and
                   (p / "state.json").is_file())
    return found[-1] if found else None


def save(folder: Path, step: int, accelerator, model, optimizer, scheduler,
         history: list[dict], config_json: str, keep: int) -> Path:
    target = folder / f"{PREFIX}{step:06d}"
    work = folder / f".{target.name}.partial"
    if accelerator.is_main_process:
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
    accelerator.wait_for_everyone()
    if _fsdp(accelerator):
        accelerator.save_state(str(work / "accelerate"))
    elif accelerator.is_main_process:
        inner = accelerator.unwrap_model(model)
        torch.save({"weights": trainable_state(inner), "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict(), "rng": rng_state()},
                   work / "training_state.pt")
    if accelerator.is_main_process:
        (work / "config.json").write_text(config_json, encoding="utf-8")
        (work / "state.json").write_text(json.dumps({"step": step, "history": history}),
                                         encoding="utf-8")
        shutil.rmtree(target, ignore_errors=True)
        work.rename(target)
        _prune(folder, keep)
    accelerator.wait_for_everyone()
    return target


def restore(path: Path, accelerator, model, optimizer, scheduler) -> tuple[int, list[dict]]:
    state = json.loads((path / "state.json").read_text(encoding="utf-8"))
    if _fsdp(accelerator):
        accelerator.load_state(str(path / "accelerate"))
    else:
        saved = torch.load(path / "training_state.pt", weights_only=False)
        inner = accelerator.unwrap_model(model)
        missing = set(saved["weights"]) - {n for n, _ in inner.named_parameters()}
        if missing:
            raise ValueError(f"checkpoint {path} does not fit this model: {sorted(missing)[:3]}")
        params = dict(inner.named_parameters())
        with torch.no_grad():
            for name, value in saved["weights"].items():
                params[name].copy_(value.to(params[name].device))
        optimizer.load_state_dict(saved["optimizer"])
        scheduler.load_state_dict(saved["scheduler"])
        set_rng_state(saved["rng"])
    return state["step"], state["history"]


def _prune(folder: Path, keep: int) -> None:
    done = sorted(p for p in folder.glob(f"{PREFIX}*") if p.is_dir())
    for old in done[: max(0, len(done) - keep)]:
        shutil.rmtree(old, ignore_errors=True)


def _fsdp(accelerator) -> bool:
    return getattr(accelerator.state, "fsdp_plugin", None) is not None
