"""`tenon-train`: build the default bundle, refresh it from code, export, list, roll back."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from tenon.bundle import BundleError
from tenon.logs import setup_logging
from tenon.paths import TenonHome
from tenon_train.cli_refresh import (
    add_dataset_and_train,
    add_refresh,
    cmd_dataset,
    cmd_refresh,
    cmd_train,
)
from tenon_train.export.quantize import METHODS

log = logging.getLogger("tenon_train")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tenon-train", description=__doc__)
    parser.add_argument("--log-level", default="info",
                        choices=["error", "warning", "info", "debug"])
    sub = parser.add_subparsers(dest="command", required=True)
    default = sub.add_parser("build-default", help="build the default bundle (cached)")
    default.add_argument("--quantize", choices=[*METHODS, "none"], default="int8")
    default.add_argument("--publish", choices=["if-none", "always", "never"], default="if-none",
                         help="make it the current bundle (default: if there is none)")
    export = sub.add_parser("export", help="export a causal LM to a model bundle")
    export.add_argument("--source", default="default",
                        help="`default`, a .gguf file, a checkpoint folder or a hub id")
    export.add_argument("--output", required=True, help="bundle folder to write")
    export.add_argument("--name", default="", help="bundle name (default: from the source)")
    export.add_argument("--quantize", choices=[*METHODS, "none"], default="int8")
    export.add_argument("--no-fp32", action="store_true", help="drop the fp32 (GPU) graph")
    export.add_argument("--publish", action="store_true", help="make it the current bundle")
    evaluate = sub.add_parser("evaluate", help="HumanEval / held-out split for a model")
    target = evaluate.add_mutually_exclusive_group(required=True)
    target.add_argument("--torch", help="a transformers checkpoint folder (torch fp32)")
    target.add_argument("--bundle", help="a bundle folder (ONNX Runtime, CPU)")
    evaluate.add_argument("--graph", default="", help="bundle graph variant (default: CPU's)")
    evaluate.add_argument("--suite", action="append", choices=["humaneval", "heldout"])
    evaluate.add_argument("--heldout-file", help="heldout.jsonl from a dataset build")
    evaluate.add_argument("--limit", type=int, default=0, help="first N cases only")
    evaluate.add_argument("--batch", type=int, default=8, help="torch: sequences at once")
    evaluate.add_argument("--threads", type=int, default=0)
    evaluate.add_argument("--output", help="write the results (JSON) here")
    sub.add_parser("list", help="list published bundles")
    use = sub.add_parser("use", help="make a published bundle current")
    use.add_argument("bundle", help="folder name under models/ or a path")
    sub.add_parser("rollback", help="make the previously current bundle current again")
    add_refresh(sub)
    add_dataset_and_train(sub)
    return parser


def cmd_build_default(args: argparse.Namespace, home: TenonHome) -> int:
    from tenon_train.build_default import build_default

    path = build_default(home, args.quantize, args.publish)
    print(path)
    return 0


def cmd_export(args: argparse.Namespace, home: TenonHome) -> int:
    import torch
    from transformers import AutoModelForCausalLM

    from tenon_train.export.pipeline import ExportConfig, export_model, summary
    from tenon_train.publish import switch_current
    from tenon_train.sources.base_model import resolve_base

    base = resolve_base(args.source, home)
    model = AutoModelForCausalLM.from_pretrained(str(base.folder), dtype=torch.float32)
    cfg = ExportConfig(output=Path(args.output).expanduser().resolve(),
                       name=args.name or base.name, quantize=args.quantize,
                       keep_fp32=not args.no_fp32,
                       provenance={"base": base.provenance, "training_run": None})
    out = export_model(model, base.folder / "tokenizer.json", cfg)
    print(summary(out))
    if args.publish:
        switch_current(home, out)
        print(f"published: {out} is now current")
    return 0


def cmd_evaluate(args: argparse.Namespace, home: TenonHome) -> int:
    import json

    from tenon_train.evaluation.main import EvalConfig, ModelRef, evaluate

    ref = ModelRef("torch", Path(args.torch)) if args.torch else ModelRef(
        "onnx", Path(args.bundle), args.graph)
    cfg = EvalConfig(
        suites=tuple(args.suite or ["humaneval"]),
        heldout_file=Path(args.heldout_file) if args.heldout_file else None,
        humaneval_limit=args.limit, heldout_limit=args.limit, batch=args.batch,
        threads=args.threads, cache_dir=home.root / "evals",
    )
    results = evaluate(ref.__class__(ref.kind, ref.path.expanduser().resolve(), ref.graph), cfg)
    for suite, result in results.items():
        print(f"{suite} {result['model']}: {json.dumps(result['summary'])}")
    if args.output:
        Path(args.output).write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    return 0


def cmd_list(home: TenonHome) -> int:
    import json

    from tenon_train.publish import current, versions

    live = current(home)
    for path in versions(home):
        evaluation = json.loads((path / "manifest.json").read_text()).get("evaluation", {})
        he = evaluation.get("humaneval", {}).get("pass_at_1")
        held = evaluation.get("heldout", {}).get("edit_similarity")
        facts = f"  HumanEval {he:.1f} %, held-out edit sim. {held:.1f}" if (
            he is not None and held is not None) else ""
        print(f"{'*' if path.resolve() == live else ' '} {path.name}{facts}")
    if live is None:
        print("(no current bundle: run `tenon-train build-default`)")
    return 0


def cmd_use(args: argparse.Namespace, home: TenonHome) -> int:
    from tenon_train.publish import switch_current

    path = Path(args.bundle)
    if not path.is_dir():
        path = home.models / args.bundle
    switch_current(home, path)
    print(f"{path.name} is now current")
    return 0


def cmd_rollback(home: TenonHome) -> int:
    from tenon_train.publish import rollback

    path = rollback(home)
    print(f"rolled back: {path.name} is now current")
    return 0


def dispatch(args: argparse.Namespace, home: TenonHome) -> int:
    commands = {
        "build-default": lambda: cmd_build_default(args, home),
        "export": lambda: cmd_export(args, home),
        "evaluate": lambda: cmd_evaluate(args, home),
        "list": lambda: cmd_list(home),
        "use": lambda: cmd_use(args, home),
        "rollback": lambda: cmd_rollback(home),
        "refresh": lambda: cmd_refresh(args, home),
        "dataset": lambda: cmd_dataset(args),
        "train": lambda: cmd_train(args),
    }
    return commands[args.command]()


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(args.log_level)
    home = TenonHome.from_env()
    try:
        return dispatch(args, home)
    except (BundleError, OSError, ValueError) as exc:
        print(f"tenon-train: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:
        from tenon_train.dataset.sources import CorpusError
        from tenon_train.export.pipeline import ExportError
        from tenon_train.publish import PublishError
        from tenon_train.sources.gguf_wheels import SourceError

        if isinstance(exc, (ExportError, SourceError, PublishError, CorpusError)):
            print(f"tenon-train: {exc}", file=sys.stderr)
            return 1
        raise


if __name__ == "__main__":
    sys.exit(main())
