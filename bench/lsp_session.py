"""Through LSP: a real client over stdio (the test suite's VS Code impersonation).

Measured against the real server process, as an editor sees it:

- start: process start to ``ready`` and to the first completion, with a warm page cache;
- memory: the server's RSS after load and at its peak, against the bundle's size;
- latency: round trip of ``textDocument/inlineCompletion`` at each cursor position, with the
  tokens the engine generated for it (from ``tenon/stats``);
- cancel: ``$/cancelRequest`` sent while the engine decodes, to the engine's ``cancelled``
  counter moving (polled), against one decode step;
- typing, Enter and switching documents: in :mod:`bench.lsp_typing`.
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
