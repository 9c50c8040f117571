"""Where a decode step's time goes: ONNX Runtime's profiler over the engine's decode steps.

    python bench/profile_decode.py [--bundle DIR] [--context 256] [--steps 32]

Runs the server's engine (int8 graph on the CPU, KV cache in place, the saved optimised
graph) with ONNX Runtime's profiler on: one prompt of real code, then ``--steps`` decode
steps. Node times of the decode runs are summed by operator type and by node, and set
against the wall time of a step and the bandwidth floor's share (weights read per step).
Writes ``bench/results/<date>-<host>-decode-profile.{json,md}``.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import json
import os
import platform
import shlex
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "server"), str(ROOT)]

from bench.engine_speed import NEVER, code_prompt  # noqa: E402
from tenon.bundle import load_bundle  # noqa: E402
from tenon.inference import session as sessions  # noqa: E402
from tenon.inference.engine import CancelToken, SamplingParams  # noqa: E402
from tenon.inference.onnx_engine import EngineOptions, OnnxEngine  # noqa: E402
from tenon.paths import TenonHome  # noqa: E402
from tenon.tokenizer import TextCodec  # noqa: E402

RESULTS = ROOT / "bench" / "results"
STEPS_KEPT = 16  # the last decode steps (the first few warm the caches)


def profiled_options(folder: Path):
    """The server's session options with ONNX Runtime's profiler writing into ``folder``."""
    plain = sessions.session_options

    def options(threads: int):
        opts = plain(threads)
        opts.enable_profiling = True
        opts.profile_file_prefix = str(folder / "ort")
        return opts

    return options


def decode_events(trace: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[float]]:
    """Node events inside the decode runs (every ``model_run`` after the prompt's), and the
    duration of each of those runs (µs)."""
    runs = sorted((e["ts"], e["ts"] + e["dur"]) for e in trace if e.get("name") == "model_run")
    decode = runs[-STEPS_KEPT:]
    nodes = [e for e in trace if e.get("cat") == "Node" and e.get("name", "").endswith(
        "_kernel_time") and any(a <= e["ts"] <= b for a, b in decode)]
    return nodes, [b - a for a, b in decode]


def summarize(nodes: list[dict[str, Any]], runs: list[float]) -> dict[str, Any]:
    by_op: dict[str, float] = collections.defaultdict(float)
    by_node: dict[str, float] = collections.defaultdict(float)
    for e in nodes:
        op = e.get("args", {}).get("op_name", "?")
        by_op[op] += e["dur"]
        by_node[f"{op} {e['name'].removesuffix('_kernel_time')}"] += e["dur"]
    steps = len(runs)
    step_ms = sum(runs) / steps / 1000
    kernels_ms = sum(by_op.values()) / steps / 1000
    return {
        "steps": steps, "step_ms": round(step_ms, 2), "kernels_ms": round(kernels_ms, 2),
        "nodes_per_step": round(len(nodes) / steps),
        "by_op_ms": {k: round(v / steps / 1000, 3)
                     for k, v in sorted(by_op.items(), key=lambda kv: -kv[1])},
        "top_nodes_ms": {k: round(v / steps / 1000, 3)
                         for k, v in sorted(by_node.items(), key=lambda kv: -kv[1])[:15]},
    }


def markdown(report: dict[str, Any]) -> str:
    s = report["summary"]
    lines = [f"# Decode step profile ({report['date']}, {report['host']})", "",
             f"Command: `{report['command']}`", "",
             f"Bundle `{report['bundle']}`, graph `{report['graph']}`, "
             f"{report['threads']} threads, KV in place: {report['kv_in_place']}; "
             f"{report['context']}-token prompt of real code, then {report['steps']} decode "
             f"steps, the last {s['steps']} profiled. Load average at the end: "
             f"{report['load_average_end']}.", "",
             f"Wall time of a step (ONNX Runtime's `model_run`): {s['step_ms']} ms; "
             f"kernels: {s['kernels_ms']} ms over {s['nodes_per_step']} nodes; the rest is "
             f"ONNX Runtime's own work between kernels.", "",
             "| operator | ms per step | share of kernel time |", "|---|---|---|"]
    for op, ms in list(s["by_op_ms"].items())[:15]:
        lines.append(f"| {op} | {ms} | {ms / s['kernels_ms']:.0%} |")
    lines += ["", "Heaviest nodes:", "", "| node | ms per step |", "|---|---|"]
    lines += [f"| `{name}` | {ms} |" for name, ms in s["top_nodes_ms"].items()]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bundle", default="")
    parser.add_argument("--context", type=int, default=256)
    parser.add_argument("--steps", type=int, default=32)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--copy-kv", action="store_true",
                        help="the KV cache copied per step (the engine before issue 6)")
    parser.add_argument("--tag", default="", help="suffix for the result file names")
    args = parser.parse_args()
    path = Path(args.bundle) if args.bundle else TenonHome.from_env().current
    bundle = load_bundle(path, check_hashes=False)
    codec = TextCodec.load(bundle.file("tokenizer.json"), bundle.manifest.vocabulary)
    with tempfile.TemporaryDirectory(prefix="tenon-profile-") as tmp:
        sessions.session_options = profiled_options(Path(tmp))
        engine = OnnxEngine(bundle, EngineOptions(device="cpu", threads=args.threads,
                                                  reuse_prefix=False, warm_up=False,
                                                  kv_in_place=not args.copy_kv))
        ids = code_prompt(codec.encode, args.context)
        started = time.perf_counter()
        engine.generate(ids, SamplingParams(args.steps + 1), NEVER, CancelToken())
        wall = time.perf_counter() - started
        trace = json.loads(Path(engine.session.end_profiling()).read_text())
        graph, in_place = engine.variant.file, engine.kv_in_place
        engine.close()
    nodes, runs = decode_events(trace)
    report = {
        "command": "python " + " ".join(shlex.quote(a) for a in sys.argv),
        "date": dt.date.today().isoformat(), "host": platform.node(), "bundle": str(path),
        "graph": graph, "kv_in_place": in_place, "threads": args.threads,
        "context": args.context, "steps": args.steps, "wall_s": round(wall, 2),
        "load_average_end": [round(x, 2) for x in os.getloadavg()],
        "summary": summarize(nodes, runs),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = f"{report['date']}-{report['host']}-decode-profile{args.tag}"
    (RESULTS / f"{name}.json").write_text(json.dumps(report, indent=2) + "\n")
    (RESULTS / f"{name}.md").write_text(markdown(report))
    print(markdown(report))


if __name__ == "__main__":
    main()
