"""Render a results JSON as a markdown report (the same facts, as tables)."""

from __future__ import annotations

from typing import Any


def _row(cells: list[Any]) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    return [_row(header), _row(["---"] * len(header)), *(_row(r) for r in rows), ""]


def _pct(stats: dict[str, Any]) -> list[Any]:
    return [stats.get(k, "") for k in ("n", "p50", "p95", "p99", "max")]


def render(results: dict[str, Any]) -> str:
    meta = results["meta"]
    out = [f"# Tenon benchmark, {meta['date']} on {meta['host']}", "",
           f"Command: `{meta['command']}`", "",
           f"Machine: {meta['cpu']}, {meta['cores']} cores, {meta['memory_gib']} GiB; "
           f"{meta['threads']} inference threads. Load average (1 min) at start "
           f"{meta['load_start']}, at end {meta.get('load_end', '?')}: other jobs share this "
           "machine, so read the ratios (measured side by side in this run) rather than the "
           "absolute times.", "",
           f"Bundle: `{meta['bundle']}`; commit `{meta['commit']}`; "
           f"onnxruntime {meta['versions'].get('onnxruntime')}, "
           f"torch {meta['versions'].get('torch')}, "
           f"transformers {meta['versions'].get('transformers')}.", ""]
    if "targets" in results:
        out += ["## Targets", ""]
        out += _table(["target", "wanted", "measured", "met"],
                      [[t["name"], t["wanted"], t["measured"], "yes" if t["met"] else "**no**"]
                       for t in results["targets"]])
    if "lsp" in results:
        out += _lsp(results["lsp"])
    if "engine" in results:
        out += _engine(results["engine"], results.get("floor", {}))
    out += ["Everything above is in the JSON file next to this one, with every sample.", ""]
    return "\n".join(out)


def _lsp(lsp: dict[str, Any]) -> list[str]:
    out = ["## Through LSP (real client over stdio)", ""]
    start = lsp.get("start", {})
    if start:
        out += _table(["start (warm bundle)", "value"], [
            ["process start → ready", f"{start.get('start_to_ready_s')} s"],
            ["process start → first completion", f"{start.get('start_to_first_completion_s')} s"],
            ["first completion", f"{start.get('first_completion_ms')} ms"],
            ["RSS after load / peak", f"{start.get('rss_after_load_mib')} / "
                                      f"{lsp.get('peak_rss_mib')} MiB"],
            ["bundle files read (int8 graph + data + tokenizer)",
             f"{lsp.get('bundle_mib')} MiB"],
        ])
    latency = lsp.get("latency", {})
    if latency:
        out += ["Round trip of `textDocument/inlineCompletion`, one cursor position at a time "
                "(a fresh document each, so nothing is reused from the position before):", ""]
        rows = []
        for kind, facts in latency.items():
            tokens = facts["tokens"]
            rows.append([kind, *_pct(facts["latency_ms"]), tokens.get("p50"), tokens.get("max"),
                         facts["empty"]])
        out += _table(["positions", "n", "p50 ms", "p95 ms", "p99 ms", "max ms",
                       "tokens p50", "tokens max", "empty"], rows)
        if "exact_rest_of_line" in latency.get("line", {}):
            out += [f"Single-line completions equal to the file's real rest of line: "
                    f"{latency['line']['exact_rest_of_line']}/{latency['line']['latency_ms']['n']}.",
                    ""]
    typing = lsp.get("typing")
    if typing:
        out += [f"Typing: at a position whose first request was answered (the cursor arrived), "
                f"{typing['burst_chars']} characters of the real line at one keystroke "
                f"every {typing['keystroke_ms']:.0f} ms (each a change and a request, the one "
                f"in flight cancelled, as VS Code does), then a pause; then the first two "
                f"characters of the suggestion typed ({typing['positions']} positions):", ""]
        out += _table(["", "n", "p50", "p95", "p99", "max"], [
            ["first request at the position (cold, ms)", *_pct(typing.get("arrival_ms", {}))],
            ["latency after the last keystroke (ms)",
             *_pct(typing["latency_after_last_keystroke_ms"])],
            ["generations per burst", *_pct(typing["generations_per_burst"])],
            ["tokens fed to the model per burst", *_pct(typing["tokens_fed_per_burst"])],
            ["typing through the suggestion (ms)", *_pct(typing["type_through_ms"])],
            *_enter_rows(typing),
        ])
        out += [f"Typed-through requests answered without generating: "
                f"{typing['type_through_answered_without_generating']}.", ""]
        if "enter_ms" in typing:
            out += ["Enter: then the rest of the real line and Enter (the new line indented "
                    "like the one above), ghost text asked at the new line (block mode: the "
                    "next lines, not one line, so not held to the single-line target); then "
                    "the same text opened as a fresh document and asked at the same place.",
                    ""]
    switching = lsp.get("switching")
    if switching:
        out += [f"Switching documents ({switching['pairs']} pairs of the typing positions): "
                "ghost text in A, then in B, then back in A with one character typed (its "
                "real next one, or another where that would type through the suggestion):",
                ""]
        out += _table(["", "n", "p50", "p95", "p99", "max"], [
            ["back in A (ms)", *_pct(switching["back_ms"])],
            ["back in A: prompt tokens fed", *_pct(switching["back_prompt_tokens_fed"])]])
    before = lsp.get("before")
    if before:
        out += [f"Side by side with the server of `{before['root']}` (the engine before this "
                "work), the same positions, the two servers taking turns:", ""]
        rows = []
        for kind, facts in latency.items():
            old = before["latency"].get(kind, {}).get("latency_ms", {})
            new = facts["latency_ms"]
            rows.append([kind, f"{new.get('p50')} / {old.get('p50')}",
                         f"{new.get('p95')} / {old.get('p95')}"])
        if typing:
            old, new = (before["typing"]["latency_after_last_keystroke_ms"],
                        typing["latency_after_last_keystroke_ms"])
            rows.append(["typing, after the last keystroke", f"{new.get('p50')} / {old.get('p50')}",
                         f"{new.get('p95')} / {old.get('p95')}"])
            old, new = before["typing"]["generations_per_burst"], typing["generations_per_burst"]
            rows.append(["typing, generations started per burst",
                         f"{new.get('p50')} / {old.get('p50')}",
                         f"{new.get('p95')} / {old.get('p95')}"])
        if switching and "switching" in before:
            for key, label in (("back_ms", "switching back, ms"),
                               ("back_prompt_tokens_fed", "switching back, prompt tokens fed")):
                old, new = before["switching"][key], switching[key]
                rows.append([label, f"{new.get('p50')} / {old.get('p50')}",
                             f"{new.get('p95')} / {old.get('p95')}"])
        out += _table(["", "p50 now / before", "p95 now / before"], rows)
    cancel = lsp.get("cancel")
    if cancel:
        out += _table(["cancel", "n", "p50", "p95", "p99", "max"], [
            ["while decoding: `$/cancelRequest` → engine stopped (client view, ms)",
             *_pct(cancel["cancel_to_engine_stopped_ms"])],
            ["while decoding: cancel flag → engine stopped (engine view, ms)",
             *_pct(cancel["engine_cancel_to_stop_ms"])],
            ["one decode step (ms)", *_pct(cancel["decode_step_ms"])],
            ["while reading the prompt: `$/cancelRequest` → stopped (client view, ms)",
             *_pct(cancel.get("prompt_cancel_to_engine_stopped_ms", {}))],
        ])
        out += [f"Most forward passes run after a cancel: {cancel.get('max_steps_after_cancel')} "
                "(the one in flight). The prompt is read in chunks (128 tokens for int8 graphs, "
                "256 otherwise), so a cancel while reading it waits for the chunk in flight.",
                ""]
    return out


def _engine(engine: dict[str, Any], floor: dict[str, Any]) -> list[str]:
    table = engine["table"]
    out = ["## Engine: prefill and decode, same prompts, greedy", "",
           f"{engine['new_tokens']} new tokens after prompts of real code; medians of "
           f"{engine['repeats']} runs; backends interleaved.", ""]
    rows = []
    for name, per_length in table.items():
        for length, row in per_length.items():
            ratio = engine["ratios"].get(name, {}).get(length, {})
            rows.append([name, length, row["prefill_ms"], row["decode_ms_per_token"],
                         ratio.get("prefill_speedup", "1.0"), ratio.get("decode_speedup", "1.0"),
                         row.get("same_tokens_as_torch", "")])
    out += _table(["backend", "prompt tokens", "prefill ms", "decode ms/token",
                   "prefill × torch", "decode × torch", "same tokens as torch"], rows)
    if floor:
        bw = floor["bandwidth"]
        out += ["## The floor: weights read per decode step / memory bandwidth", "",
                f"Bandwidth measured in this run ({bw['threads']} threads, {bw['mib']} MiB): "
                f"read {bw['best_read_gbs']} GB/s, copy {bw['copy_gbs']} GB/s.", ""]
        rows = []
        for name, facts in floor["graphs"].items():
            for key, label in (("per_length", name),
                               ("per_length_drafting", f"{name}, drafting: ms per token")):
                for length, row in facts.get(key, {}).items():
                    rows.append([label, length, f"{facts['weight_bytes_per_token'] / 1e6:.0f}",
                                 f"{row['kv_bytes'] / 1e6:.1f}", row["floor_ms"],
                                 row["decode_ms"], row["multiple"]])
        out += _table(["graph", "context", "weights MB/step", "KV MB/step", "floor ms",
                       "engine decode ms", "× floor"], rows)
    return out


def _enter_rows(typing: dict[str, Any]) -> list[list[Any]]:
    if "enter_ms" not in typing:
        return []
    return [
        ["after Enter, document open (ms)", *_pct(typing["enter_ms"])],
        ["after Enter, prompt tokens fed", *_pct(typing["enter_prompt_tokens_fed"])],
        *([["after Enter, tokens generated", *_pct(typing["enter_tokens_generated"])]]
          if "enter_tokens_generated" in typing else []),
        ["same place, fresh document (ms)", *_pct(typing["enter_fresh_ms"])],
        ["same place, fresh document: prompt tokens fed",
         *_pct(typing["enter_fresh_prompt_tokens_fed"])],
    ]
