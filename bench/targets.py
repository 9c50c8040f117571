"""The issue's targets, checked against one run's results (2-core machine, default bundle)."""

from __future__ import annotations

from typing import Any

from bench.engine_speed import DRAFTED


def _get(data: dict[str, Any], *path: str) -> Any:
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


def _target(name: str, wanted: str, value: Any, met: bool | None, unit: str = "") -> dict:
    measured = "not measured" if value is None else f"{value}{unit}"
    return {"name": name, "wanted": wanted, "measured": measured, "met": bool(met)}


def _versus_torch(results: dict[str, Any], cpu_graph: str) -> list[dict[str, Any]]:
    table = _get(results, "engine", "table") or {}
    torch = table.get("torch-fp32", {})
    new_tokens = _get(results, "engine", "new_tokens") or 0

    def total(row):
        return row["prefill_ms"] + new_tokens * row["decode_ms_per_token"]

    out = []
    for label, how in (("", ""), (DRAFTED, " with drafting")):
        ort = table.get(f"ort-{cpu_graph}{label}", {})
        for length in (n for n in ort if n in torch):
            speedup = round(total(torch[length]) / total(ort[length]), 2)
            decode = round(torch[length]["decode_ms_per_token"]
                           / ort[length]["decode_ms_per_token"], 2)
            out.append(_target(
                f"ORT {cpu_graph}{how} vs transformers fp32, {length}-token prompt + "
                f"{new_tokens} tokens (decode alone {decode}×)", "≥ 5×", speedup, speedup >= 5,
                "×"))
    return out


def evaluate(results: dict[str, Any], cpu_graph: str) -> list[dict[str, Any]]:
    out = []
    line = _get(results, "lsp", "latency", "line", "latency_ms") or {}
    p50, p95 = line.get("p50"), line.get("p95")
    out.append(_target("single-line p50 through LSP (fresh positions)", "≤ 400 ms", p50,
                       p50 is not None and p50 <= 400, " ms"))
    out.append(_target("single-line p95 through LSP (fresh positions)", "≤ 1000 ms", p95,
                       p95 is not None and p95 <= 1000, " ms"))
    typing = _get(results, "lsp", "typing", "latency_after_last_keystroke_ms") or {}
    if typing:
        out.append(_target("single-line p50 / p95 while typing (after the last keystroke)",
                           "≤ 400 / ≤ 1000 ms", f"{typing.get('p50')} / {typing.get('p95')}",
                           typing.get("p50", 1e9) <= 400 and typing.get("p95", 1e9) <= 1000,
                           " ms"))
    graph_floor = _get(results, "floor", "graphs", cpu_graph) or {}
    for key, how in (("per_length", "decode step"),
                     ("per_length_drafting", "decode with drafting, per token")):
        for length, row in (graph_floor.get(key) or {}).items():
            out.append(_target(f"{cpu_graph} {how} vs bandwidth floor, {length}-token context",
                               "≤ 1.5×", row["multiple"], row["multiple"] <= 1.5, "×"))
    out += _versus_torch(results, cpu_graph)
    cancel = _get(results, "lsp", "cancel") or {}
    if cancel:
        client = cancel["cancel_to_engine_stopped_ms"]
        step = cancel["decode_step_ms"]
        steps = cancel.get("max_steps_after_cancel")
        out.append(_target(
            "cancel while decoding → engine stopped (p95, client view) within one decode step",
            f"≤ {step.get('p50')} ms (one step); ≤ 1 pass after the cancel",
            f"{client.get('p95')} ms; {steps} pass",
            client.get("p95", 1e9) <= step.get("p50", 0) and (steps or 0) <= 1))
    start = _get(results, "lsp", "start", "start_to_ready_s")
    out.append(_target("start to ready, warm bundle", "≤ 5 s", start,
                       start is not None and start <= 5, " s"))
    return out
