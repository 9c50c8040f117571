"""`tenon-train refresh`: code → dataset → fine-tuned model → evaluation → bundle → gate → publish.

Every stage leaves its result in the run folder and is skipped when that result is already
there, so a killed refresh continues where it stopped when run again with the same
``--run``: the dataset is kept, training resumes from its last checkpoint, evaluations come
from the cache, and an exported bundle is reused. Nothing is published unless the gate
passes, and publishing is atomic (see :mod:`tenon_train.publish`).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import subprocess
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from tenon.paths import TenonHome
from tenon_train.dataset.build import DatasetConfig
from tenon_train.evaluation.main import EvalConfig, ModelRef, evaluate
from tenon_train.gate import GateConfig, decide
from tenon_train.progress import Stages
from tenon_train.train.config import TrainConfig
from tenon_train.train.model import COMPLETE

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RefreshConfig:
    run: Path
    dataset: DatasetConfig
    train: TrainConfig
    evaluation: EvalConfig
    gate: GateConfig = field(default_factory=GateConfig)
    base: str = "default"  # the model source the training base was resolved from
    base_name: str = "model"
    quantize: str = "int8"
    keep_fp32: bool = True
    eval_torch: bool = True  # also judge the torch base and candidate (fp32)
    publish: bool = True
    keep_versions: int = 3
    nproc_per_node: int = 1  # > 1: train through torchrun on this machine
    progress: bool = True
    command: str = ""


def train_stage(cfg: RefreshConfig) -> dict[str, Any]:
    merged = cfg.train.output / "merged"
    if not (merged / COMPLETE).is_file():
        if cfg.nproc_per_node > 1:
            _torchrun(cfg)
        else:
            from tenon_train.train.loop import main as train_main

            train_main(cfg.train)
    history = json.loads((cfg.train.output / "history.json").read_text(encoding="utf-8"))
    steps = [h for h in history if "tokens" in h]
    seconds = sum(h["seconds"] for h in steps)
    return {"history": history, "tokens": sum(h["tokens"] for h in steps),
            "seconds": round(seconds, 1),
            "tokens_per_second": round(sum(h["tokens"] for h in steps) / max(seconds, 1e-9), 2)}


def _torchrun(cfg: RefreshConfig) -> None:
    cfg.train.output.mkdir(parents=True, exist_ok=True)
    config_file = cfg.train.output / "train_config.json"
    config_file.write_text(cfg.train.to_json() + "\n", encoding="utf-8")
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone",
               f"--nproc_per_node={cfg.nproc_per_node}", "-m", "tenon_train.cli", "train",
               "--config", str(config_file)]
    log.info("training with %d processes: %s", cfg.nproc_per_node, " ".join(command))
    subprocess.run(command, check=True, env=os.environ.copy())


def export_stage(cfg: RefreshConfig, base_provenance: dict, training: dict) -> Path:
    from tenon.bundle import BundleError, load_bundle

    out = cfg.run / "bundle"
    try:
        load_bundle(out, check_hashes=False)
        return out
    except BundleError:
        pass
    import torch
    from transformers import AutoModelForCausalLM

    from tenon_train.export.pipeline import ExportConfig, export_model

    merged = cfg.train.output / "merged"
    model = AutoModelForCausalLM.from_pretrained(str(merged), dtype=torch.float32)
    provenance = {"base": base_provenance, "training_run": {
        "run": cfg.run.name, "config_fingerprint": cfg.train.fingerprint(),
        "config": json.loads(cfg.train.to_json()),
        "tokens_per_second": training["tokens_per_second"]}}
    export_cfg = ExportConfig(output=out, name=bundle_name(cfg), quantize=cfg.quantize,
                              keep_fp32=cfg.keep_fp32, progress=cfg.progress,
                              provenance=provenance)
    return export_model(model, merged / "tokenizer.json", export_cfg)


def bundle_name(cfg: RefreshConfig) -> str:
    return f"{cfg.base_name}-ft-{cfg.train.fingerprint()[:8]}"


def current_bundle(home: TenonHome) -> Path:
    from tenon_train.publish import current

    live = current(home)
    if live is not None:
        return live
    from tenon_train.build_default import build_default

    return build_default(home, publish="if-none")


def record_evaluation(bundle: Path, results: dict[str, dict], gate: dict) -> None:
    """Store the evaluation in the bundle's manifest (atomic replace; files are unchanged)."""
    path = bundle / "manifest.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["evaluation"] = {"gate": gate, **{s: r["summary"] for s, r in results.items()}}
    tmp = bundle / ".manifest.json.tmp"
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def gate_stage(cfg: RefreshConfig, current: dict, candidate: dict, bundle: Path) -> dict:
    """Decide once per run (kept in ``gate.json``), and record it in the bundle's manifest."""
    saved = cfg.run / "gate.json"
    if saved.is_file():
        return json.loads(saved.read_text(encoding="utf-8"))
    decision = decide(current, candidate, cfg.gate).to_dict()
    record_evaluation(bundle, candidate, decision)
    saved.write_text(json.dumps(decision, indent=1) + "\n", encoding="utf-8")
    return decision


def _evaluate(ref: ModelRef, cfg: RefreshConfig) -> dict[str, dict]:
    results = evaluate(ref, cfg.evaluation)
    return {suite: {k: v for k, v in r.items() if k != "rows"} for suite, r in results.items()}


def main(cfg: RefreshConfig, home: TenonHome) -> dict[str, Any]:
    from tenon_train import report
    from tenon_train.dataset.build import main as dataset_main
    from tenon_train.sources.base_model import resolve_base

    cfg.run.mkdir(parents=True, exist_ok=True)
    stages = Stages("refresh", 8, cfg.progress)
    summary: dict[str, Any] = {"run": cfg.run.name, "command": cfg.command,
                               "started": dt.datetime.now(dt.timezone.utc).isoformat(),
                               "evaluations": {}}
    with stages.step("base model"):
        base = resolve_base(cfg.base, home)
    with stages.step("dataset"):
        card_file = cfg.dataset.output / "card.json"
        card = (json.loads(card_file.read_text()) if card_file.is_file()
                else dataset_main(cfg.dataset))
        summary["dataset"] = {k: card[k] for k in ("examples_written", "heldout_cases",
                                                   "heldout_doctest_cases", "counts")}
    with stages.step("train"):
        training = train_stage(cfg)
        summary["training"] = {k: v for k, v in training.items() if k != "history"}
    if cfg.eval_torch:
        with stages.step("evaluate torch base and candidate"):
            summary["evaluations"]["torch base (fp32)"] = _evaluate(
                ModelRef("torch", base.folder.resolve()), cfg)
            summary["evaluations"]["torch fine-tuned (fp32)"] = _evaluate(
                ModelRef("torch", (cfg.train.output / "merged").resolve()), cfg)
    with stages.step("export and quantize"):
        bundle = export_stage(cfg, base.provenance, training)
    with stages.step("evaluate bundles"):
        live = current_bundle(home)
        now = _evaluate(ModelRef("onnx", live), cfg)
        new = _evaluate(ModelRef("onnx", bundle.resolve()), cfg)
        summary["evaluations"][f"current bundle {live.name} ({cfg.quantize})"] = now
        summary["evaluations"][f"candidate bundle ({cfg.quantize})"] = new
    with stages.step("gate"):
        summary["gate"] = gate_stage(cfg, now, new, bundle)
    with stages.step("publish"):
        summary["published"] = _publish(cfg, home, bundle, summary["gate"]["publish"])
    stages.close()
    summary["stages"] = stages.durations
    summary["report"] = str(report.write(cfg.run, summary, training["history"]))
    return summary


def _publish(cfg: RefreshConfig, home: TenonHome, bundle: Path, passed: bool) -> str | None:
    if bundle.is_symlink():  # an earlier attempt of this run published it already
        return bundle.resolve().name
    if not (passed and cfg.publish):
        log.info("not published (%s)", "gate failed" if not passed else "--no-publish")
        return None
    from tenon_train.publish import publish

    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%d-%H%M%S")
    target = publish(home, bundle, f"{bundle_name(cfg)}-{stamp}", cfg.keep_versions)
    bundle.symlink_to(target)  # the run folder keeps pointing at its bundle
    return target.name


def with_run(cfg: RefreshConfig, run: Path) -> RefreshConfig:
    """Point every stage's output into ``run``."""
    return replace(cfg, run=run, dataset=replace(cfg.dataset, output=run / "data"),
                   train=replace(cfg.train, data=run / "data", output=run / "train"),
                   evaluation=replace(cfg.evaluation, heldout_file=run / "data" / "heldout.jsonl"))
