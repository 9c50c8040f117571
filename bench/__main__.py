"""`python -m bench`: the latency and throughput benchmark (see bench/README.md).

Writes ``bench/results/<date>-<host>[-quick].json`` and a ``.md`` next to it, both carrying
the exact command that produced them.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gc
import json
import logging
import os
import platform
import shlex
import socket
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

from bench import (
    bundles,
    engine_speed,
    floor,
    lsp_session,
    lsp_typing,
    positions,
    provenance,
    report,
)
from bench.targets import evaluate
from tenon.bundle import load_bundle
from tenon.inference import optimized_cache
from tenon.paths import TenonHome, default_bundle_path
from tenon.settings import Settings
from tenon.tokenizer import TextCodec

ROOT = Path(__file__).resolve().parent.parent
MODES = {
    "full": {"counts": {"line": 120, "body": 50, "comment": 50}, "lengths": (256, 1024, 2048),
             "repeats": 3, "new_tokens": 32, "cancel": 6, "typing": 24},
    "quick": {"counts": {"line": 16, "body": 6, "comment": 6}, "lengths": (256, 1024),
              "repeats": 1, "new_tokens": 16, "cancel": 3, "typing": 6},
}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer positions and prompts")
    parser.add_argument("--bundle", default="", help="bundle folder (default: published)")
    parser.add_argument("--sections", default="floor,engine,lsp",
                        help="comma-separated: floor, engine, lsp")
    parser.add_argument("--threads", type=int, default=0,
                        help="inference threads (default: the machine's physical cores)")
    parser.add_argument("--no-torch", action="store_true", help="skip transformers")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results"))
    parser.add_argument("--tag", default="", help="suffix for the result file names")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--settings", default="{}",
                        help='server settings as JSON, e.g. \'{"prefixTokens": 512}\'')
    parser.add_argument("--compare-root", default="",
                        help="another checkout whose server runs side by side (e.g. before)")
    return parser.parse_args(argv)


def meta(args: argparse.Namespace, bundle_path: Path, threads: int) -> dict[str, Any]:
    import onnxruntime

    versions = {"onnxruntime": onnxruntime.__version__, "python": platform.python_version()}
    for name in ("torch", "transformers"):
        try:
            versions[name] = __import__(name).__version__
        except ImportError:
            versions[name] = None
    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")),
               platform.processor())
    return {
        "date": dt.date.today().isoformat(), "host": socket.gethostname(),
        "command": " ".join(shlex.quote(a) for a in ["python", "-m", "bench", *sys.argv[1:]]),
        "mode": "quick" if args.quick else "full", "commit": provenance.commit(),
        "cpu": cpu, "cores": psutil.cpu_count(logical=False) or os.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1), "threads": threads,
        "bundle": str(bundle_path), "versions": versions,
        "load_start": round(os.getloadavg()[0], 2), "device": args.device,
        "server_settings": json.loads(args.settings),
    }


def floor_section(bundle, graphs: dict[str, Any], threads: int, device: str) -> dict[str, Any]:
    log("measuring memory bandwidth")
    bandwidth = floor.gpu_bandwidth() if device == "cuda" else floor.memory_bandwidth(threads)
    out: dict[str, Any] = {"bandwidth": bandwidth, "graphs": {}}
    for name, b in graphs.items():
        variant = b.manifest.graphs[name]
        out["graphs"][name] = floor.weight_bytes_per_token(b.file(variant.file))
    return out


def floor_multiples(section: dict[str, Any], engine: dict[str, Any], arch, graphs) -> None:
    """Add, per graph and context length, the floor and the engine's decode as a multiple."""
    gbs = section["bandwidth"]["best_read_gbs"]
    for name, facts in section["graphs"].items():
        for label, key in (("", "per_length"), (engine_speed.DRAFTED, "per_length_drafting")):
            rows = engine["table"].get(f"ort-{name}{label}", {})
            facts[key] = {}
            for length, row in rows.items():
                itemsize = 2 if graphs[name].manifest.graphs[name].dtype == "float16" else 4
                kv = floor.kv_bytes(arch.num_layers, arch.num_kv_heads, arch.head_dim,
                                    int(length), itemsize)
                ms = floor.floor_ms(facts["weight_bytes_per_token"] + kv, gbs)
                facts[key][length] = {
                    "kv_bytes": kv, "floor_ms": round(ms, 1),
                    "decode_ms": row["decode_ms_per_token"],
                    "multiple": round(row["decode_ms_per_token"] / ms, 2)}


def engine_section(bundle, graphs, mode, threads, no_torch, device) -> dict[str, Any]:
    codec = TextCodec.load(bundle.file(bundle.manifest.vocabulary.file),
                           bundle.manifest.vocabulary)
    prompts = {n: engine_speed.code_prompt(codec.encode, n) for n in mode["lengths"]}
    backends: list[Any] = []
    loads = {}
    for name, b in graphs.items():
        log(f"loading ORT {name}")
        backend = engine_speed.OrtBackend(b, name, threads, device=device)
        log(f"  provider that runs it: {backend.provider} ({backend.engine.kv_note})")
        loads[backend.name] = round(backend.load_s, 2)
        backends.append(backend)
    first = next(iter(graphs))
    before = engine_speed.OrtBackend(graphs[first], first, threads, "-before", device=device,
                                     **engine_speed.BEFORE)
    loads[before.name] = round(before.load_s, 2)
    backends.insert(1, before)
    drafting = engine_speed.OrtBackend(graphs[first], first, threads, engine_speed.DRAFTED,
                                       device=device, draft_tokens=Settings().draft_tokens)
    loads[drafting.name] = round(drafting.load_s, 2)
    backends.insert(1, drafting)
    source = None if no_torch else bundles.torch_source(bundle)
    if source is not None:
        log(f"loading transformers from {source}")
        backend = engine_speed.TorchBackend(source, threads, bundle.manifest.vocabulary.eos_ids,
                                            device)
        loads[backend.name] = round(backend.load_s, 2)
        backends.append(backend)
    elif not no_torch:
        log("no cached fp32 checkpoint for this bundle: transformers skipped")
    table = engine_speed.measure(backends, prompts, mode["new_tokens"], mode["repeats"], log)
    for backend in backends:
        backend.close()
    gc.collect()
    providers = {b.name: b.provider for b in backends}
    return {"table": table, "ratios": engine_speed.ratios(table), "load_s": loads,
            "providers": providers,
            "new_tokens": mode["new_tokens"], "repeats": mode["repeats"],
            "torch_source": str(source) if source else None}


async def lsp_section(bundle_path: Path, bundle, cpu_key: str, mode: dict[str, Any],
                      args: argparse.Namespace, threads: int) -> dict[str, Any]:
    drawn = positions.draw(mode["counts"])
    typing_positions = positions.draw({"line": mode["typing"]}, seed=1)
    body = [p for p in drawn if p.kind == "body"] or drawn
    out: dict[str, Any] = {"bundle_mib": round(bundles.bundle_bytes(bundle, cpu_key) / 2**20, 1)}
    home = TenonHome.from_env().root
    options = {"threads": threads, **json.loads(args.settings)}
    with tempfile.TemporaryDirectory(prefix="tenon-bench-") as tmp:
        logs = Path(tmp)

        def server(name: str, root: Path | None = None) -> lsp_session.Server:
            return lsp_session.Server(bundle_path, home, logs / f"{name}.log", options,
                                      args.device, root)

        log("starting the server once (page cache, saved optimised graph)")
        first = server("warm")
        cold = await first.start()
        await wait_for_optimised_graph(bundle.file(bundle.manifest.graphs[cpu_key].file),
                                       args.device)
        await first.stop()
        main = server("server")
        start = await lsp_session.start_facts(main, drawn[-1])
        start["first_start_to_ready_s"] = cold["start_to_ready_s"]
        start["rss_after_load_mib"] = round(start.pop("rss_after_load_bytes") / 2**20)
        out["start"] = start
        log(f"start: {start}")
        servers = [main]
        if args.compare_root:
            servers.append(server("before", Path(args.compare_root)))
            await servers[1].start()
        rows = await lsp_session.latency(servers, drawn, log)
        out["latency"] = lsp_session.summarize_latency(rows[0])
        out["rows"] = rows[0]
        log(f"latency: { {k: v['latency_ms'] for k, v in out['latency'].items()} }")
        typing = await lsp_typing.typing(servers, typing_positions, 120.0, 4)
        out["typing"] = typing[0]
        log(f"typing: {out['typing']['latency_after_last_keystroke_ms']}")
        switching = await lsp_typing.switching(servers, typing_positions)
        out["switching"] = switching[0]
        log(f"switching back: {out['switching']['back_ms']}")
        if args.compare_root:
            out["before"] = {"root": args.compare_root,
                             "latency": lsp_session.summarize_latency(rows[1]),
                             "typing": typing[1], "switching": switching[1]}
            await servers[1].stop()
        out["cancel"] = await lsp_session.cancel_latency(main, body, mode["cancel"])
        log(f"cancel: {out['cancel']['cancel_to_engine_stopped_ms']}")
        out["peak_rss_mib"] = round(main.peak_rss / 2**20)
        out["server_stats"] = await main.stats()
        await main.stop()
        out["request_logs"] = lsp_session.request_logs(logs / "server.log")
    out["positions"] = [p.to_json() for p in drawn]
    out["position_files"] = positions.file_hashes()
    return out


async def wait_for_optimised_graph(graph: Path, device: str, timeout: float = 120) -> None:
    """Let the first server finish saving its optimised graph, so the next start is warm."""
    if device != "cpu" or optimized_cache.graph_bytes(graph) < optimized_cache.MIN_GRAPH_BYTES:
        return
    key = optimized_cache.cache_key(graph, "CPUExecutionProvider", True)
    deadline = time.monotonic() + timeout
    while optimized_cache.cached_model(key) is None and time.monotonic() < deadline:
        await asyncio.sleep(0.5)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    for name in ("pygls", "pytest_lsp", "tenon", "transformers"):
        logging.getLogger(name).setLevel(logging.WARNING)
    mode = MODES["quick" if args.quick else "full"]
    threads = args.threads or psutil.cpu_count(logical=False) or 2
    sections = set(args.sections.split(","))
    bundle_path = Path(args.bundle).expanduser() if args.bundle else default_bundle_path()
    bundle_path = bundle_path.resolve()
    bundle = load_bundle(bundle_path, check_hashes=False)
    results: dict[str, Any] = {"meta": meta(args, bundle_path, threads)}
    log(f"bench ({results['meta']['mode']}) on {bundle_path}, {threads} threads")
    if args.device == "cuda":
        from bench.fp16 import derived_fp16

        bundle = derived_fp16(bundle, log)
        bundle_path = bundle.path
    target = bundle.graph_for(args.device)
    key = next(name for name, v in bundle.manifest.graphs.items() if v == target)
    graphs = {key: bundle}
    if args.device == "cpu" and ("engine" in sections or "floor" in sections):
        for method in ("q4", "q8"):
            graphs[method] = bundles.derived(bundle, method, log)
        if "fp32" in bundle.manifest.graphs:
            graphs["fp32"] = bundle
    if "floor" in sections:
        results["floor"] = floor_section(bundle, graphs, threads, args.device)
        log(f"bandwidth: {results['floor']['bandwidth']}")
    if "engine" in sections:
        results["engine"] = engine_section(bundle, graphs, mode, threads, args.no_torch,
                                           args.device)
        if "floor" in results:
            floor_multiples(results["floor"], results["engine"], bundle.manifest.architecture,
                            graphs)
    if "lsp" in sections:
        results["lsp"] = asyncio.run(lsp_section(bundle_path, bundle, key, mode, args,
                                                threads))
    results["meta"]["load_end"] = round(os.getloadavg()[0], 2)
    results["targets"] = evaluate(results, cpu_graph=key)
    write(results, Path(args.out), args.tag or ("cuda" if args.device == "cuda" else ""))
    return 0


def write(results: dict[str, Any], out: Path, tag: str) -> None:
    out.mkdir(parents=True, exist_ok=True)
    meta_ = results["meta"]
    name = f"{meta_['date']}-{meta_['host']}" + ("-quick" if meta_["mode"] == "quick" else "")
    name += f"-{tag}" if tag else ""
    (out / f"{name}.json").write_text(json.dumps(results, indent=1, default=str) + "\n")
    (out / f"{name}.md").write_text(report.render(results))
    log(f"wrote {out / name}.json and .md")


if __name__ == "__main__":
    sys.exit(main())
