"""The `refresh`, `dataset` and `train` commands: arguments → frozen configurations."""

from __future__ import annotations

import argparse
import datetime as dt
import shlex
import sys
from dataclasses import replace
from pathlib import Path

from tenon.paths import TenonHome


def add_refresh(sub) -> None:
    refresh = sub.add_parser("refresh", help="dataset → fine-tune → evaluate → export → gate "
                             "→ publish")
    refresh.add_argument("--source", nargs="*", default=[],
                         help="folders or git work trees of Python code (default: the "
                              "standard library and installed packages, permissive licences)")
    refresh.add_argument("--run", help="run folder (default: $TENON_HOME/runs/<time>); "
                         "run again with the same folder to resume")
    refresh.add_argument("--base", default="default", help="model source to fine-tune")
    refresh.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    refresh.add_argument("--preset", choices=["cpu", "gpu"], help="default: from --device")
    refresh.add_argument("--method", choices=["lora", "full"])
    refresh.add_argument("--steps", type=int)
    refresh.add_argument("--batch-size", type=int)
    refresh.add_argument("--learning-rate", type=float)
    refresh.add_argument("--seed", type=int)
    refresh.add_argument("--threads", type=int, default=0, help="torch/ORT threads (0: auto)")
    refresh.add_argument("--nproc-per-node", type=int, default=1,
                         help="train with this many processes (torchrun)")
    refresh.add_argument("--strategy", choices=["ddp", "fsdp"])
    refresh.add_argument("--licences", choices=["permissive", "any"], default="permissive")
    refresh.add_argument("--decontaminate", nargs="*", default=[],
                         help="more evaluation files (py, txt, jsonl) to keep out of training")
    refresh.add_argument("--humaneval-limit", type=int, default=0)
    refresh.add_argument("--heldout-limit", type=int, default=0)
    refresh.add_argument("--eval-batch", type=int)
    refresh.add_argument("--no-eval-torch", action="store_true",
                         help="judge only the bundles, not the torch models")
    refresh.add_argument("--no-publish", action="store_true")
    refresh.add_argument("--keep", type=int, default=3, help="bundle versions to keep")
    refresh.add_argument("--no-progress", action="store_true")


def add_dataset_and_train(sub) -> None:
    dataset = sub.add_parser("dataset", help="build a dataset (examples, splits, card)")
    dataset.add_argument("--source", nargs="*", default=[])
    dataset.add_argument("--output", required=True)
    dataset.add_argument("--seed", type=int, default=0)
    dataset.add_argument("--licences", choices=["permissive", "any"], default="permissive")
    train = sub.add_parser("train", help="train from a saved configuration (torchrun-able)")
    train.add_argument("--config", required=True, help="train_config.json of a run")


def refresh_config(args: argparse.Namespace, home: TenonHome, base_folder: Path, base_name: str):
    from tenon_train.presets import PRESETS
    from tenon_train.refresh import with_run

    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%d-%H%M%S")
    run = Path(args.run).expanduser().resolve() if args.run else home.runs / stamp
    cfg = PRESETS[args.preset or ("gpu" if args.device == "cuda" else "cpu")](run, base_folder)
    train_overrides = {k: v for k, v in {
        "method": args.method, "steps": args.steps, "batch_size": args.batch_size,
        "learning_rate": args.learning_rate, "seed": args.seed, "strategy": args.strategy,
        "device": args.device, "threads": args.threads, "progress": not args.no_progress,
    }.items() if v is not None}
    dataset = replace(cfg.dataset, sources=tuple(args.source),
                      seed=args.seed if args.seed is not None else cfg.dataset.seed,
                      filters=replace(cfg.dataset.filters, licences=args.licences),
                      decontaminate_files=tuple(Path(p) for p in args.decontaminate),
                      progress=not args.no_progress)
    evaluation = replace(cfg.evaluation, humaneval_limit=args.humaneval_limit,
                         heldout_limit=args.heldout_limit, threads=args.threads,
                         batch=args.eval_batch or cfg.evaluation.batch, device=args.device,
                         cache_dir=home.root / "evals", progress=not args.no_progress)
    cfg = replace(cfg, dataset=dataset, train=replace(cfg.train, **train_overrides),
                  evaluation=evaluation, base=args.base, base_name=base_name,
                  eval_torch=not args.no_eval_torch, publish=not args.no_publish,
                  keep_versions=args.keep, nproc_per_node=args.nproc_per_node,
                  progress=not args.no_progress,
                  command=shlex.join(["tenon-train", *sys.argv[1:]]))
    return with_run(cfg, run)


def cmd_refresh(args: argparse.Namespace, home: TenonHome) -> int:
    from tenon_train.refresh import main
    from tenon_train.sources.base_model import resolve_base

    base = resolve_base(args.base, home)
    cfg = refresh_config(args, home, base.folder.resolve(), base.name)
    summary = main(cfg, home)
    print(f"report: {summary['report']}")
    gate = summary.get("gate") or {}
    for reason in gate.get("reasons", ()):
        print(f"  {reason}")
    print(f"published: {summary['published']}" if summary.get("published") else
          "not published: the current bundle stays")
    return 0


def cmd_dataset(args: argparse.Namespace) -> int:
    from tenon_train.dataset.build import DatasetConfig, main
    from tenon_train.dataset.filters import FilterConfig

    cfg = DatasetConfig(output=Path(args.output), sources=tuple(args.source), seed=args.seed,
                        filters=FilterConfig(licences=args.licences))
    data = main(cfg)
    print(f"dataset in {cfg.output}: {data['examples_written']}, held-out cases "
          f"{data['heldout_cases']} (card: {cfg.output / 'card.md'})")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from tenon_train.train.config import load
    from tenon_train.train.loop import main

    result = main(load(Path(args.config)))
    print(f"merged model: {result.merged} ({result.tokens_per_second} tokens/s)")
    return 0
