"""`tenon-train evaluate`: HumanEval and the held-out split for a checkpoint or a bundle."""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from tenon.settings import Settings
from tenon_train.evaluation import cache, heldout, humaneval
from tenon_train.evaluation.runner import run_cases
from tenon_train.evaluation.torch_engine import TorchEngineOptions

log = logging.getLogger(__name__)
SUITES = ("humaneval", "heldout")
cache.source_fingerprint()  # pin the server's code as imported


@dataclass(frozen=True)
class ModelRef:
    kind: str  # "torch" (a checkpoint folder) or "onnx" (a bundle folder)
    path: Path
    graph: str = ""  # onnx: a graph variant by name ("int8", "fp32"); empty: the CPU one

    def label(self) -> str:
        return f"{self.kind}:{self.path.name}" + (f":{self.graph}" if self.graph else "")


@dataclass(frozen=True)
class EvalConfig:
    suites: tuple[str, ...] = SUITES
    heldout_file: Path | None = None
    humaneval_limit: int = 0  # 0: all 164 problems
    heldout_limit: int = 0  # 0: every held-out case
    batch: int = 8  # torch: sequences decoded together
    threads: int = 0  # 0: the library default
    cache_dir: Path | None = None  # where results are kept by key; None: no cache
    device: str = "cpu"  # torch models: "cpu" or "cuda" (bundles run on the CPU graph)
    progress: bool = True


def resolve_graph(ref: ModelRef) -> str:
    if ref.kind != "onnx":
        return ""
    from tenon.bundle import load_bundle

    bundle = load_bundle(ref.path, check_hashes=False)
    return ref.graph or next(k for k, v in bundle.manifest.graphs.items()
                             if v == bundle.graph_for("cpu"))


def fingerprint(ref: ModelRef) -> str:
    from tenon_train.evaluation.served import fingerprint_bundle, fingerprint_checkpoint

    if ref.kind == "torch":
        return fingerprint_checkpoint(ref.path)
    from tenon.bundle import load_bundle

    graph = load_bundle(ref.path, check_hashes=False).manifest.graphs[resolve_graph(ref)]
    return fingerprint_bundle(ref.path, graph.file)


def open_model(ref: ModelRef, cfg: EvalConfig) -> tuple[Any, int]:
    """The model in the server's shape, and how many cases may run at once."""
    from tenon_train.evaluation import served

    if ref.kind == "torch":
        options = TorchEngineOptions(max_batch=max(1, cfg.batch), device=cfg.device)
        return served.load_torch(ref.path, options, cfg.threads), max(1, cfg.batch)
    return served.load_onnx(ref.path, ref.graph, cfg.threads), 1


def _cases(suite: str, cfg: EvalConfig) -> tuple[list, list]:
    if suite == "humaneval":
        problems = humaneval.load_problems(cfg.humaneval_limit or None)
        return problems, [humaneval.to_case(p) for p in problems]
    if cfg.heldout_file is None:
        raise ValueError("the held-out suite needs a held-out file (from the dataset stage)")
    items = heldout.read_cases(cfg.heldout_file, cfg.heldout_limit or None)
    return items, [c.to_case() for c in items]


def summarize(suite: str, rows: list[dict]) -> dict[str, Any]:
    n = len(rows)
    summary: dict[str, Any] = {"n": n, "new_tokens_mean": _mean([r["new_tokens"] for r in rows])}
    if suite == "humaneval":
        passed = sum(r["passed"] for r in rows)
        return {**summary, "passed": passed, "pass_at_1": round(100 * passed / max(n, 1), 2)}
    tested = [r for r in rows if r.get("doctest")]
    return {
        **summary,
        "exact_match": round(100 * _mean([r["exact"] for r in rows]), 2),
        "edit_similarity": round(100 * _mean([r["edit_similarity"] for r in rows]), 2),
        "parse_rate": round(100 * _mean([r["parses"] for r in rows]), 2),
        "doctest_cases": len(tested),
        "doctest_passed": sum(r["passed"] for r in tested),
    }


def _mean(values: list) -> float:
    return round(sum(values) / len(values), 4) if values else 0.0


def _key(suite: str, ref: ModelRef, cfg: EvalConfig) -> str:
    data = None
    if suite == "heldout" and cfg.heldout_file is not None:
        data = cache.cache_key({"file": cfg.heldout_file.read_text(encoding="utf-8")})
    return cache.cache_key({
        "suite": suite, "model": fingerprint(ref), "kind": ref.kind, "graph": resolve_graph(ref),
        "data": data, "limit": cfg.humaneval_limit if suite == "humaneval" else cfg.heldout_limit,
        "settings": repr(Settings()),
    })


def run_suite(suite: str, ref: ModelRef, cfg: EvalConfig, model: Any, workers: int) -> dict:
    items, cases = _cases(suite, cfg)
    started = time.perf_counter()
    bar = tqdm(total=len(cases), desc=f"{suite} {ref.label()}", unit="case",
               disable=not cfg.progress)
    outcomes = run_cases(cases, model, Settings(), workers, on_done=lambda _o: bar.update(1))
    bar.close()
    judge = humaneval.judge if suite == "humaneval" else heldout.judge
    rows = judge(items, outcomes)
    return {
        "suite": suite, "model": ref.label(), "kind": ref.kind, "path": str(ref.path),
        "graph": resolve_graph(ref), "summary": summarize(suite, rows), "rows": rows,
        "seconds": round(time.perf_counter() - started, 1), "workers": workers,
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }


def evaluate(ref: ModelRef, cfg: EvalConfig) -> dict[str, dict]:
    """Results per suite, from the cache when the same model was judged the same way."""
    results: dict[str, dict] = {}
    todo = []
    for suite in cfg.suites:
        key = _key(suite, ref, cfg)
        found = cache.load(cfg.cache_dir, key) if cfg.cache_dir else None
        if found is not None:
            log.info("%s on %s: cached result %s", suite, ref.label(), key)
            results[suite] = {**found, "cached": True}
        else:
            todo.append((suite, key))
    if todo:
        model, workers = open_model(ref, cfg)
        try:
            for suite, key in todo:
                results[suite] = run_suite(suite, ref, cfg, model, workers)
                if cfg.cache_dir:
                    cache.store(cfg.cache_dir, key, results[suite])
        finally:
            model.engine.close()
    return results
