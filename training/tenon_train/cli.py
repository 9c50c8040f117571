"""`tenon-train`: build the default bundle, export a model, list and switch bundles."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from tenon.bundle import BundleError
from tenon.logs import setup_logging
from tenon.paths import TenonHome
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
    sub.add_parser("list", help="list published bundles")
    use = sub.add_parser("use", help="make a published bundle current")
    use.add_argument("bundle", help="folder name under models/ or a path")
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


def cmd_list(home: TenonHome) -> int:
    from tenon_train.publish import current, versions

    live = current(home)
    for path in versions(home):
        print(f"{'*' if path.resolve() == live else ' '} {path.name}")
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


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(args.log_level)
    home = TenonHome.from_env()
    try:
        if args.command == "build-default":
            return cmd_build_default(args, home)
        if args.command == "export":
            return cmd_export(args, home)
        if args.command == "list":
            return cmd_list(home)
        return cmd_use(args, home)
    except (BundleError, OSError, ValueError) as exc:
        print(f"tenon-train: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:
        from tenon_train.export.pipeline import ExportError
        from tenon_train.sources.gguf_wheels import SourceError

        if isinstance(exc, (ExportError, SourceError)):
            print(f"tenon-train: {exc}", file=sys.stderr)
            return 1
        raise


if __name__ == "__main__":
    sys.exit(main())
