"""One-shot commands: print a live completion for a file, or check the setup."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import onnxruntime as ort

from tenon.bundle import BundleError
from tenon.completion import complete
from tenon.context.positions import LineIndex, PositionError
from tenon.context.snapshot import Snapshot
from tenon.inference.engine import CancelToken
from tenon.inference.onnx_engine import EngineError
from tenon.model import load_model, resolve_bundle_path
from tenon.settings import Settings


def _settings(args: argparse.Namespace) -> Settings:
    return Settings(bundle_path=args.bundle, device=args.device, log_level=args.log_level)


def _snapshot(path: Path, line: int | None, character: int) -> Snapshot:
    text = path.read_text(encoding="utf-8")
    offset = len(text) if line is None else LineIndex.of(text).offset(line, character)
    return Snapshot(path.resolve().as_uri(), 1, "python", text, offset)


def complete_file(args: argparse.Namespace) -> int:
    path = Path(args.file)
    try:
        snapshot = _snapshot(path, args.line, args.character)
        started = time.perf_counter()
        model = load_model(_settings(args))
        loaded = time.perf_counter()
        done = complete(snapshot, _settings(args), model, CancelToken())
    except (OSError, PositionError, BundleError, EngineError) as exc:
        print(f"tenon: {exc}", file=sys.stderr)
        return 1
    gen = done.result
    line, _ = LineIndex.of(snapshot.text).position(snapshot.offset)
    info = model.describe()
    print(f"Tenon completion for {path} (line {line + 1}, mode: {done.mode})")
    print(f"model: {info['name']} [{info['quantization'] or info['graph']}] "
          f"on {info['provider']} ({info['providerNote']}), loaded in {loaded - started:.1f} s")
    if gen is not None:
        print(f"time: {done.timings['totalMs'] / 1000:.2f} s (prompt {gen.prompt_tokens} tokens "
              f"in {gen.prompt_ms:.0f} ms, {len(gen.token_ids)} tokens generated in "
              f"{gen.decode_ms:.0f} ms, stopped by {gen.finish_reason})")
    print("-" * 60)
    shown = "\n".join(snapshot.prefix.split("\n")[-4:])
    print(shown, end="")
    print(f"\033[2m{done.text}\033[0m" if sys.stdout.isatty() else done.text)
    if not done.text:
        print(f"(no completion: {done.reason})")
    print("-" * 60)
    return 0 if done.text else 2


def doctor(args: argparse.Namespace) -> int:
    print(f"onnxruntime {ort.__version__}, providers: {', '.join(ort.get_available_providers())}")
    path = resolve_bundle_path(_settings(args))
    print(f"bundle: {path}")
    try:
        model = load_model(_settings(args))
    except (BundleError, EngineError) as exc:
        print(f"  not usable: {exc}")
        return 1
    for key, value in model.describe().items():
        print(f"  {key}: {value}")
    return 0
