"""Through LSP: a real client over stdio (the test suite's VS Code impersonation).

Measured against the real server process, as an editor sees it:

- start: process start to ``ready`` and to the first completion, with a warm page cache;
- memory: the server's RSS after load and at its peak, against the bundle's size;
- latency: round trip of ``textDocument/inlineCompletion`` at each cursor position, with the
  tokens the engine generated for it (from ``tenon/stats``);
- cancel: ``$/cancelRequest`` sent while the engine decodes, to the engine's ``cancelled``
  counter moving (polled), against one decode step;
- typing: keystrokes as VS Code sends them (each one a change and a new request, the
  previous request cancelled), then a pause: latency of the request the user waits for,
  and the generations the burst cost; then typing the first characters of the suggestion.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import statistics
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil
from lsprotocol import types

from bench.positions import Position
from tests.support.lsp_client import field, server_command, server_env, start, wait_for_state

KEY_VALUE = re.compile(r"(\w+)=([^\s]+)")


def percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    ordered = sorted(values)

    def pick(q: float) -> float:
        return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]

    return {"n": len(ordered), "p50": round(pick(0.50), 1), "p95": round(pick(0.95), 1),
            "p99": round(pick(0.99), 1), "mean": round(statistics.fmean(ordered), 1),
            "max": round(ordered[-1], 1)}


class Server:
    """One server process and its client."""

    def __init__(self, bundle: Path, home: Path, log_file: Path, options: dict | None,
                 device: str = "cpu", server_root: Path | None = None) -> None:
        self.command = server_command("--bundle", str(bundle), "--device", device,
                                      "--log-file", str(log_file))
        self.env = server_env(home)
        if server_root is not None:  # another checkout's server (e.g. before a change)
            self.env["PYTHONPATH"] = str(server_root / "server")
        self.options = options or {}
        self.log_file = log_file
        self.client: Any = None
        self.peak_rss = 0
        self._sampler: asyncio.Task | None = None

    async def start(self) -> dict[str, float]:
        started = time.perf_counter()
        self.client = await start(self.command, self.env, self.options)
        status = await wait_for_state(self.client, {"ready", "error"}, timeout=600)
        ready = time.perf_counter()
        if field(status, "state") != "ready":
            raise RuntimeError(f"server did not load the model: {status}")
        self._sampler = asyncio.ensure_future(self._sample_rss())
        return {"start_to_ready_s": round(ready - started, 2), "started": started}

    @property
    def process(self) -> psutil.Process:
        return psutil.Process(self.client._server.pid)

    async def _sample_rss(self) -> None:
        with contextlib.suppress(psutil.Error):
            while True:
                self.peak_rss = max(self.peak_rss, self.process.memory_info().rss)
                await asyncio.sleep(0.1)

    async def stats(self) -> Any:
        return plain(await self.client.protocol.send_request_async("tenon/stats", {}))

    async def engine(self, name: str) -> int:
        return int(field(field(await self.stats(), "engine"), name) or 0)

    def open(self, uri: str, text: str, version: int = 1) -> None:
        self.client.text_document_did_open(types.DidOpenTextDocumentParams(
            types.TextDocumentItem(uri=uri, language_id="python", version=version, text=text)))

    def close(self, uri: str) -> None:
        self.client.text_document_did_close(types.DidCloseTextDocumentParams(
            types.TextDocumentIdentifier(uri)))

    def insert(self, uri: str, version: int, line: int, character: int, text: str) -> None:
        here = types.Position(line, character)
        self.client.text_document_did_change(types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            [types.TextDocumentContentChangePartial(range=types.Range(here, here), text=text)]))

    def replace(self, uri: str, version: int, start: types.Position, end: types.Position,
                text: str) -> None:
        self.client.text_document_did_change(types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            [types.TextDocumentContentChangePartial(range=types.Range(start, end), text=text)]))

    def inline_request(self, uri: str, line: int, character: int) -> tuple[str, asyncio.Future]:
        """Send an inline completion request; return its id and the future of its reply."""
        msg_id = str(uuid.uuid4())
        params = types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri),
            position=types.Position(line, character),
            context=types.InlineCompletionContext(types.InlineCompletionTriggerKind.Automatic))
        future = self.client.protocol.send_request(
            types.TEXT_DOCUMENT_INLINE_COMPLETION, params, msg_id=msg_id)
        return msg_id, asyncio.wrap_future(future) if not asyncio.isfuture(future) else future

    def cancel(self, msg_id: str) -> None:
        self.client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id=msg_id))

    async def complete(self, uri: str, line: int, character: int) -> tuple[float, str]:
        started = time.perf_counter()
        _, future = self.inline_request(uri, line, character)
        result = await future
        elapsed = (time.perf_counter() - started) * 1000
        items = list(result.items) if result is not None else []
        return elapsed, items[0].insert_text if items else ""

    async def stop(self) -> None:
        if self._sampler is not None:
            self._sampler.cancel()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.client.shutdown_session(), 30)


def plain(obj: Any) -> Any:
    """A response object (pygls makes named tuples of JSON objects) as dicts and lists."""
    if hasattr(obj, "_asdict"):
        return {k: plain(v) for k, v in obj._asdict().items()}
    if isinstance(obj, dict):
        return {k: plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain(v) for v in obj]
    return obj


def request_logs(log_file: Path) -> list[dict[str, str]]:
    """The server's per-request log lines (``#N inline mode=... prompt_ms=...``), in order."""
    rows = []
    for line in log_file.read_text(encoding="utf-8", errors="replace").splitlines():
        if " inline mode=" in line or " inline recent=" in line:
            rows.append(dict(KEY_VALUE.findall(line)))
    return rows


async def start_facts(server: Server, first: Position) -> dict[str, Any]:
    """Start to ready, and to the first completion (requested as soon as it is ready)."""
    facts = await server.start()
    rss_ready = server.process.memory_info().rss
    server.open("file:///bench/first.py", first.text)
    elapsed, _ = await server.complete("file:///bench/first.py", first.line, first.character)
    server.close("file:///bench/first.py")
    done = time.perf_counter()
    return {"start_to_ready_s": facts["start_to_ready_s"],
            "start_to_first_completion_s": round(done - facts["started"], 2),
            "first_completion_ms": round(elapsed, 1), "rss_after_load_bytes": rss_ready}


async def measure_position(server: Server, position: Position, uri: str) -> dict[str, Any]:
    """One completion at a fresh document: round trip, tokens generated, characters."""
    server.open(uri, position.text)
    before = await server.engine("tokensGenerated")
    elapsed, text = await server.complete(uri, position.line, position.character)
    tokens = await server.engine("tokensGenerated") - before
    server.close(uri)
    exact = None
    if position.kind == "line":
        exact = bool(text) and position.expected.startswith(text.rstrip("\n"))
    return {"kind": position.kind, "source": position.source, "line": position.line,
            "ms": round(elapsed, 1), "tokens": tokens, "chars": len(text), "exact": exact}


async def latency(servers: list[Server], positions: list[Position], log: Callable[[str], None]
                  ) -> list[list[dict[str, Any]]]:
    """Every position on every server (taking turns, so load falls on all alike)."""
    rows: list[list[dict[str, Any]]] = [[] for _ in servers]
    for i, position in enumerate(positions):
        order = list(enumerate(servers))
        for s, server in order if i % 2 == 0 else order[::-1]:
            rows[s].append(await measure_position(server, position, f"file:///bench/{i}.py"))
        if i % 20 == 0:
            row = rows[0][-1]
            log(f"  position {i + 1}/{len(positions)} {position.kind}: {row['ms']:.0f} ms, "
                f"{row['tokens']} tokens")
    return rows


def summarize_latency(rows: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kind in ("line", "body", "comment", "all"):
        chosen = [r for r in rows if kind in ("all", r["kind"])]
        if not chosen:
            continue
        out[kind] = {"latency_ms": percentiles([r["ms"] for r in chosen]),
                     "tokens": percentiles([r["tokens"] for r in chosen]),
                     "empty": sum(1 for r in chosen if not r["chars"])}
    lines = [r for r in rows if r["kind"] == "line"]
    if lines:
        out["line"]["exact_rest_of_line"] = sum(1 for r in lines if r["exact"])
    return out


async def cancel_once(server: Server, position: Position, uri: str,
                      stage: str) -> dict | None:
    """Send ``$/cancelRequest`` while the engine is in ``stage`` ("decode" or "prompt").

    None when the completion finished before the engine reached that stage.
    """
    server.open(uri, position.text)
    cancelled, generations = await server.engine("cancelled"), await server.engine("generations")
    calls, steps = await server.engine("forwardCalls"), await server.engine("decodeSteps")
    msg_id, future = server.inline_request(uri, position.line, position.character)
    try:
        while not future.done():
            if stage == "decode" and await server.engine("decodeSteps") >= steps + 3:
                break
            if stage == "prompt" and await server.engine("forwardCalls") >= calls + 1:
                break
            await asyncio.sleep(0.002)
        if future.done():
            return None
        sent = time.perf_counter()
        server.cancel(msg_id)
        while await server.engine("generations") <= generations:  # the engine is done
            await asyncio.sleep(0.002)
        client_ms = (time.perf_counter() - sent) * 1000
        with contextlib.suppress(Exception):
            await future
        engine = field(await server.stats(), "engine")
        if int(field(engine, "cancelled") or 0) <= cancelled:
            return None  # it finished before the cancel arrived
        if stage == "prompt" and int(field(engine, "decodeSteps") or 0) > steps:
            return None  # the prompt was read before the cancel arrived
        return {"client_ms": client_ms,
                "engine_ms": float(field(engine, "lastCancelToStopMs") or 0.0),
                "step_ms": float(field(engine, "lastDecodeStepMs") or 0.0),
                "steps_after": int(field(engine, "maxStepsAfterCancel") or 0)}
    finally:
        server.close(uri)


async def cancel_latency(server: Server, positions: list[Position], repeats: int) -> dict:
    """Cancel during decoding (within one step?) and during the prompt (within one chunk?)."""
    out: dict[str, Any] = {"repeats": repeats}
    for stage in ("decode", "prompt"):
        rows: list[dict] = []
        for i in range(3 * repeats):
            if len(rows) == repeats:
                break
            row = await cancel_once(server, positions[i % len(positions)],
                                    f"file:///bench/cancel-{stage}{i}.py", stage)
            if row is not None:
                rows.append(row)
        prefix = "" if stage == "decode" else "prompt_"
        out[f"{prefix}cancel_to_engine_stopped_ms"] = percentiles([r["client_ms"] for r in rows])
        out[f"{prefix}engine_cancel_to_stop_ms"] = percentiles([r["engine_ms"] for r in rows])
        if stage == "decode":
            out["decode_step_ms"] = percentiles([r["step_ms"] for r in rows])
            out["max_steps_after_cancel"] = max((r["steps_after"] for r in rows), default=None)
    return out


async def type_then_pause(server: Server, position: Position, uri: str, keystroke_ms: float,
                          burst: int) -> dict[str, Any]:
    """At a position (its first request answered: the cursor arrived there), type ``burst``
    characters of the real line at a fixed pace, then wait for the answer.

    As VS Code does, every keystroke sends the change and a new request and cancels the
    request still in flight. Then the user types the first two characters of the suggestion.
    """
    server.open(uri, position.text)
    line, character, version = position.line, position.character, 1
    arrived, _ = await server.complete(uri, line, character)  # the cursor arrives: cold
    await asyncio.sleep(0.3)
    before = await server.engine("generations")
    fed = await server.engine("tokensFed")
    pending: tuple[str, asyncio.Future] | None = None
    started = time.perf_counter()
    for n, ch in enumerate(position.expected[:burst]):
        if n:
            await asyncio.sleep(keystroke_ms / 1000)
        if pending is not None and not pending[1].done():
            server.cancel(pending[0])
        version += 1
        server.insert(uri, version, line, character, ch)
        character += 1
        started = time.perf_counter()
        pending = server.inline_request(uri, line, character)
    assert pending is not None
    result = await pending[1]
    row: dict[str, Any] = {"waited_ms": (time.perf_counter() - started) * 1000,
                           "arrival_ms": arrived,
                           "generations": await server.engine("generations") - before,
                           "tokens_fed": await server.engine("tokensFed") - fed}
    items = list(result.items) if result is not None else []
    suggestion = items[0].insert_text if items else ""
    if len(suggestion) > 2 and "\n" not in suggestion[:2]:
        version += 1
        server.insert(uri, version, line, character, suggestion[:2])
        gens = await server.engine("generations")
        row["through_ms"], text = await server.complete(uri, line, character + 2)
        row["through_hit"] = (await server.engine("generations") == gens
                              and text == suggestion[2:])
        character += 2
    row.update(await press_enter(server, position, uri, (version, line, character)))
    server.close(uri)
    return row


async def prompt_counters(server: Server) -> tuple[int, int, int]:
    stats = field(await server.stats(), "engine")
    return tuple(int(field(stats, k) or 0) for k in ("tokensFed", "decodeSteps",
                                                      "tokensGenerated"))


async def prompt_fed_since(server: Server, before: tuple[int, int, int]) -> tuple[int, int]:
    """Prompt tokens read and tokens generated since ``before``: every token fed that was
    not a decode step's was a prompt's."""
    now = await prompt_counters(server)
    return (now[0] - before[0]) - (now[1] - before[1]), now[2] - before[2]


async def press_enter(server: Server, position: Position, uri: str,
                      at: tuple[int, int, int]) -> dict[str, Any]:
    """The user finishes the line as the file has it and presses Enter (the editor indents
    the new line like the one above); ghost text is asked for at the new line. The same
    text is then opened as a fresh document and asked at the same place: what the cached
    prompt of the document saved."""
    version, line, character = at
    full = position.text.split("\n")[line][: position.character] + position.expected
    indent = full[: len(full) - len(full.lstrip())]
    await asyncio.sleep(0.3)
    before = await prompt_counters(server)
    server.replace(uri, version + 1, types.Position(line, 0), types.Position(line, character),
                   full + "\n" + indent)
    enter_ms, _ = await server.complete(uri, line + 1, len(indent))
    fed, made = await prompt_fed_since(server, before)
    row = {"enter_ms": enter_ms, "enter_tokens_generated": made, "enter_prompt_tokens_fed": fed}
    lines = position.text.split("\n")
    text = "\n".join([*lines[:line], full, indent, *lines[line + 1:]])
    fresh = uri.replace(".py", "-fresh.py")
    server.open(fresh, text)
    before = await prompt_counters(server)
    row["enter_fresh_ms"], _ = await server.complete(fresh, line + 1, len(indent))
    row["enter_fresh_prompt_tokens_fed"], _ = await prompt_fed_since(server, before)
    server.close(fresh)
    return row


async def typing(servers: list[Server], positions: list[Position], keystroke_ms: float,
                 burst: int) -> list[dict[str, Any]]:
    rows: list[list[dict[str, Any]]] = [[] for _ in servers]
    for i, position in enumerate(positions):
        order = list(enumerate(servers))
        for s, server in order if i % 2 == 0 else order[::-1]:
            rows[s].append(await type_then_pause(server, position, f"file:///bench/t{i}.py",
                                                 keystroke_ms, burst))
    return [summarize_typing(r, keystroke_ms, burst) for r in rows]


async def switch_back(server: Server, a: Position, b: Position, uri: str) -> dict[str, Any]:
    """Ghost text in document A, then in document B, then back in A with one character
    typed (A's real next one, unless that types through the suggestion): the prompt tokens
    A costs the second time."""
    uri_a, uri_b = f"{uri}-a.py", f"{uri}-b.py"
    server.open(uri_a, a.text)
    _, suggestion = await server.complete(uri_a, a.line, a.character)
    server.open(uri_b, b.text)
    await server.complete(uri_b, b.line, b.character)
    before = await prompt_counters(server)
    typed = not_continuing(a.expected[:1], suggestion)
    server.insert(uri_a, 2, a.line, a.character, typed)
    elapsed, _ = await server.complete(uri_a, a.line, a.character + 1)
    row = {"back_ms": elapsed, "back_prompt_tokens_fed": (await prompt_fed_since(server,
                                                                                 before))[0]}
    server.close(uri_a)
    server.close(uri_b)
    return row


def not_continuing(wanted: str, suggestion: str) -> str:
    """``wanted``, or another character where it would type through ``suggestion`` (which
    is answered from the recent suggestions, without the model)."""
    if not suggestion.startswith(wanted):
        return wanted
    return next(c for c in "xyz" if not suggestion.startswith(c))


async def switching(servers: list[Server], positions: list[Position]) -> list[dict[str, Any]]:
    """:func:`switch_back` on pairs of positions (from different files), servers in turns."""
    rows: list[list[dict[str, Any]]] = [[] for _ in servers]
    pairs = list(zip(positions[::2], positions[1::2], strict=False))
    for i, (a, b) in enumerate(pairs):
        order = list(enumerate(servers))
        for s, server in order if i % 2 == 0 else order[::-1]:
            rows[s].append(await switch_back(server, a, b, f"file:///bench/s{i}"))
    return [{"pairs": len(r), "back_ms": percentiles([x["back_ms"] for x in r]),
             "back_prompt_tokens_fed": percentiles([x["back_prompt_tokens_fed"] for x in r])}
            for r in rows]


def summarize_typing(rows: list[dict[str, Any]], keystroke_ms: float, burst: int) -> dict:
    through = [r for r in rows if "through_ms" in r]
    return {"keystroke_ms": keystroke_ms, "burst_chars": burst, "positions": len(rows),
            "latency_after_last_keystroke_ms": percentiles([r["waited_ms"] for r in rows]),
            "arrival_ms": percentiles([r["arrival_ms"] for r in rows]),
            "generations_per_burst": percentiles([r["generations"] for r in rows]),
            "tokens_fed_per_burst": percentiles([r["tokens_fed"] for r in rows]),
            "type_through_ms": percentiles([r["through_ms"] for r in through]),
            "type_through_answered_without_generating":
                f"{sum(1 for r in through if r['through_hit'])}/{len(through)}",
            "enter_ms": percentiles([r["enter_ms"] for r in rows]),
            "enter_prompt_tokens_fed": percentiles([r["enter_prompt_tokens_fed"] for r in rows]),
            "enter_tokens_generated":
                percentiles([r.get("enter_tokens_generated", 0) for r in rows]),
            "enter_fresh_ms": percentiles([r["enter_fresh_ms"] for r in rows]),
            "enter_fresh_prompt_tokens_fed":
                percentiles([r["enter_fresh_prompt_tokens_fed"] for r in rows])}
