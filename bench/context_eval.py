"""How well do comments and docstrings drive the code? Held-out stdlib cases over LSP.

Runs every case of ``bench/data/context_cases.jsonl`` (see ``context_cases.py``) through
the real server and a real LSP client over stdio, as an editor would:

- ``line``, ``comment``, ``body``: an inline completion at the cursor; scored by how often
  the document with the completion parses, exact match and edit similarity (difflib ratio)
  with the text that was removed, and how often nothing was offered;
- ``doctest``: the "Generate from docstring" code action, resolved once with one candidate
  (the greedy body) and once with candidate ranking (``--candidates``, default 4); the
  applied body is scored by running the docstring's examples in the sandbox.

Writes ``bench/results/context-eval-<date>.json`` and ``.md``, each with the command.

    python bench/context_eval.py [--limit N] [--kinds line,comment] [--bundle PATH]
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import datetime as dt
import difflib
import json
import os
import platform
import shlex
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "server"), str(ROOT)]

from lsprotocol import types  # noqa: E402

from bench import provenance  # noqa: E402
from bench.context_cases import CASES, Case, docstring_of  # noqa: E402
from tenon.doctests import run_doctests  # noqa: E402
from tests.support.lsp_client import field, server_command, start, wait_for_state  # noqa: E402

RESULTS = ROOT / "bench" / "results"


def load_cases(kinds: set[str], limit: int) -> list[Case]:
    lines = CASES.read_text(encoding="utf-8").splitlines()
    header = json.loads(lines[0])
    if header["python"] != platform.python_version():
        print(f"warning: cases were made on Python {header['python']}; this is "
              f"{platform.python_version()}: run bench/context_cases.py again", file=sys.stderr)
    cases = [Case(**json.loads(line)) for line in lines[1:]]
    picked: dict[str, int] = {}
    chosen = []
    for case in cases:
        if case.kind in kinds and picked.get(case.kind, 0) < limit:
            picked[case.kind] = picked.get(case.kind, 0) + 1
            chosen.append(case)
    return chosen


def similarity(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a.strip(), b.strip()).ratio()


def parses(source: str) -> bool:
    try:
        ast.parse(source)
    except (SyntaxError, ValueError):
        return False
    return True


def insert(document: str, offset: int, text: str) -> str:
    return document[:offset] + text + document[offset:]


async def inline(client, uri: str, line: int, character: int) -> str:
    result = await client.text_document_inline_completion_async(types.InlineCompletionParams(
        text_document=types.TextDocumentIdentifier(uri), position=types.Position(line, character),
        context=types.InlineCompletionContext(types.InlineCompletionTriggerKind.Invoked)))
    items = list(result.items) if result else []
    return items[0].insert_text if items else ""


def open_case(client, uri: str, text: str) -> None:
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)))


def close_case(client, uri: str) -> None:
    client.text_document_did_close(types.DidCloseTextDocumentParams(
        types.TextDocumentIdentifier(uri)))


async def run_inline_case(client, case: Case) -> dict:
    document = case.document()
    line, character = case.cursor(document)
    uri = f"file:///stdlib/{case.id}/{case.module}"
    open_case(client, uri, document)
    started = time.perf_counter()
    text = await inline(client, uri, line, character)
    latency = (time.perf_counter() - started) * 1000
    close_case(client, uri)
    expected = case.expected.split("\n")[0] if case.kind == "line" else case.expected
    return {
        "id": case.id, "kind": case.kind, "latency_ms": round(latency), "empty": not text,
        "parses": parses(insert(document, case.offset, text)) if text else False,
        "exact": text.strip() == expected.strip(),
        "similarity": round(similarity(text, expected), 3),
    }


def apply_edit(document: str, edit: types.TextEdit) -> str:
    lines = document.split("\n")

    def offset(position: types.Position) -> int:
        head = sum(len(x) + 1 for x in lines[: position.line])
        text = lines[position.line] if position.line < len(lines) else ""
        return head + len(text.encode("utf-16-le")[: 2 * position.character].decode(
            "utf-16-le", "ignore"))

    return document[: offset(edit.range.start)] + edit.new_text + document[offset(edit.range.end):]


async def generate_from_docstring(client, case: Case, document: str, candidates: int,
                                  settings: dict) -> dict:
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"tenon": {**settings, "candidates": candidates}}))
    uri = f"file:///stdlib/{case.id}-{candidates}/{case.module}"
    open_case(client, uri, document)
    here = types.Position(case.def_line - 1, len(document.split("\n")[case.def_line - 1]) - 1)
    started = time.perf_counter()
    actions = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri), range=types.Range(here, here),
        context=types.CodeActionContext(diagnostics=[])))
    mine = [a for a in actions or [] if a.title.startswith("Generate from docstring")]
    resolved = await client.code_action_resolve_async(mine[0]) if mine else None
    latency = (time.perf_counter() - started) * 1000
    close_case(client, uri)
    if resolved is None or resolved.edit is None:
        return {"offered": bool(mine), "applied": False, "passed": 0,
                "latency_ms": round(latency)}
    new = apply_edit(document, resolved.edit.document_changes[0].edits[0])
    source = case.source()
    outcome = run_doctests(new, docstring_of(source, case), case.function, case.examples)
    return {"offered": True, "applied": True, "passed": outcome.passed,
            "all_pass": outcome.passed == case.examples, "parses": parses(new),
            "title": resolved.title, "latency_ms": round(latency)}


async def run_doctest_case(client, case: Case, candidates: int, settings: dict) -> dict:
    document = case.document()
    greedy = await generate_from_docstring(client, case, document, 1, settings)
    ranked = await generate_from_docstring(client, case, document, candidates, settings)
    return {"id": case.id, "kind": "doctest", "examples": case.examples, "greedy": greedy,
            "ranked": ranked}


def mean(values: list[float]) -> float:
    return round(statistics.fmean(values), 3) if values else 0.0


def summarize(rows: list[dict]) -> dict:
    summary: dict[str, dict] = {}
    for kind in ("line", "comment", "body"):
        mine = [r for r in rows if r["kind"] == kind]
        if mine:
            summary[kind] = {
                "cases": len(mine),
                "parse_rate": mean([r["parses"] for r in mine]),
                "exact_match": mean([r["exact"] for r in mine]),
                "edit_similarity": mean([r["similarity"] for r in mine]),
                "empty_rate": mean([r["empty"] for r in mine]),
                "latency_ms_p50": statistics.median(r["latency_ms"] for r in mine),
            }
    doctests = [r for r in rows if r["kind"] == "doctest"]
    if doctests:
        summary["doctest"] = {
            "cases": len(doctests),
            "examples": sum(r["examples"] for r in doctests),
            "all_pass_greedy": mean([bool(r["greedy"].get("all_pass")) for r in doctests]),
            "all_pass_ranked": mean([bool(r["ranked"].get("all_pass")) for r in doctests]),
            "examples_passed_greedy": sum(r["greedy"]["passed"] for r in doctests),
            "examples_passed_ranked": sum(r["ranked"]["passed"] for r in doctests),
            "parse_rate_ranked": mean([bool(r["ranked"].get("parses")) for r in doctests]),
            "latency_ms_p50_ranked": statistics.median(r["ranked"]["latency_ms"]
                                                       for r in doctests),
        }
    return summary


def markdown(summary: dict, command: str, meta: dict) -> str:
    lines = [f"# Context evaluation ({meta['date']})", "", f"Command: `{command}`", "",
             f"Model: {meta['model']} on {meta['provider']}; server code at commit "
             f"`{meta.get('commit', '?')}`; host {meta['host']}; "
             f"{meta['seconds']:.0f} s in all; load average at the end "
             f"{meta['load_average_end']} on {os.cpu_count()} CPUs (latencies are inflated "
             "when it is above the CPU count).", "",
             "| mode | cases | parses | exact match | edit similarity | empty | p50 latency |",
             "|---|---|---|---|---|---|---|"]
    for kind in ("line", "comment", "body"):
        if kind in summary:
            s = summary[kind]
            lines.append(f"| {kind} | {s['cases']} | {s['parse_rate']:.0%} | "
                         f"{s['exact_match']:.0%} | {s['edit_similarity']:.2f} | "
                         f"{s['empty_rate']:.0%} | {s['latency_ms_p50']:.0f} ms |")
    if "doctest" in summary:
        s = summary["doctest"]
        lines += ["", "| doctest cases | examples | all examples pass, greedy | "
                  "all pass, ranked | examples passed greedy / ranked | p50 latency ranked |",
                  "|---|---|---|---|---|---|",
                  f"| {s['cases']} | {s['examples']} | {s['all_pass_greedy']:.0%} | "
                  f"{s['all_pass_ranked']:.0%} | {s['examples_passed_greedy']} / "
                  f"{s['examples_passed_ranked']} | {s['latency_ms_p50_ranked']:.0f} ms |"]
    return "\n".join(lines) + "\n"


async def run(args: argparse.Namespace) -> dict:
    kinds = set(args.kinds.split(","))
    cases = load_cases(kinds, args.limit)
    command = server_command(*(["--bundle", args.bundle] if args.bundle else []))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "server"),
                                                          os.environ.get("PYTHONPATH", "")])}
    settings = json.loads(args.settings)
    client = await start(command, env, settings)  # this checkout's server, whatever is installed
    status = await wait_for_state(client, {"ready", "error"}, timeout=300)
    rows = []
    for number, case in enumerate(cases, 1):
        if case.kind == "doctest":
            rows.append(await run_doctest_case(client, case, args.candidates, settings))
        else:
            rows.append(await run_inline_case(client, case))
        print(f"[{number}/{len(cases)}] {case.kind} {case.id}", file=sys.stderr, flush=True)
    await client.shutdown_session()
    model = field(status, "model")
    return {"rows": rows, "model": f"{field(model, 'name')} [{field(model, 'quantization')}]",
            "provider": field(status, "provider")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--limit", type=int, default=10_000, help="cases per kind")
    parser.add_argument("--kinds", default="line,comment,body,doctest")
    parser.add_argument("--candidates", type=int, default=4)
    parser.add_argument("--bundle", default="")
    parser.add_argument("--out", default="")
    parser.add_argument("--settings", default="{}",
                        help='server settings as JSON, e.g. \'{"prefixTokens": 512}\'')
    args = parser.parse_args()
    started = time.perf_counter()
    outcome = asyncio.run(run(args))
    meta = {"date": dt.date.today().isoformat(), "host": platform.node(),
            "model": outcome["model"], "provider": outcome["provider"],
            "seconds": time.perf_counter() - started, "commit": provenance.commit(),
            "load_average_end": [round(x, 2) for x in os.getloadavg()]}
    command = "python " + " ".join(shlex.quote(a) for a in sys.argv)
    summary = summarize(outcome["rows"])
    name = args.out or f"context-eval-{meta['date']}"
    RESULTS.mkdir(parents=True, exist_ok=True)
    report = {"command": command, **meta, "summary": summary, "cases": outcome["rows"]}
    (RESULTS / f"{name}.json").write_text(json.dumps(report, indent=2) + "\n")
    (RESULTS / f"{name}.md").write_text(markdown(summary, command, meta))
    print(markdown(summary, command, meta))


if __name__ == "__main__":
    main()
