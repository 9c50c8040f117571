"""Typing through LSP, as an editor sends it, against the real server process.

- typing: keystrokes as VS Code sends them (each one a change and a new request, the
  previous request cancelled), then a pause: latency of the request the user waits for,
  and the generations the burst cost; then typing the first characters of the suggestion;
- Enter: the rest of the line and Enter, ghost text at the new line with the document open,
  against the same text as a fresh document (prompt tokens read, tokens generated);
- switching: ghost text in one document, then another, then back in the first.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from lsprotocol import types

from bench.lsp_session import Server, percentiles
from bench.positions import Position
from tests.support.lsp_client import field


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


async def prompt_counters(server: Server) -> tuple[int, ...]:
    stats = field(await server.stats(), "engine")
    return tuple(int(field(stats, k) or 0) for k in ("tokensFed", "decodeSteps",
                                                      "tokensGenerated", "tokensDrafted"))


async def prompt_fed_since(server: Server, before: tuple[int, int, int]) -> tuple[int, int]:
    """Prompt tokens read and tokens generated since ``before``: every token fed that was
    neither a decode step's nor a draft was a prompt's."""
    now = await prompt_counters(server)
    fed, steps, drafted = (now[i] - before[i] for i in (0, 1, 3))
    return fed - steps - drafted, now[2] - before[2]


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
