"""Turn raw generated text into the completion the user sees, or into nothing.

In order: strip special tokens, cut at the stop rules, drop trailing blank space, trim what
repeats the text after the cursor, drop repetition, then (for Python) keep the longest
prefix that parses in place. A completion with nothing useful left is dropped.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from tenon.context import classify as modes
from tenon.context.classify import CursorContext, region_start
from tenon.stop_rules import StopPolicy, cut_point

SPECIAL_TOKEN = re.compile(r"<\|[a-zA-Z0-9_]+\|>|<(fim_prefix|fim_suffix|fim_middle|eos)>")
TOP_LEVEL_STATEMENT = re.compile(r"^(?![\s#)\]}]|$)(?!(else|elif|except|finally)\b)", re.M)


@dataclass(frozen=True)
class Finished:
    text: str
    reason: str  # "ok", or why the completion was dropped or shortened


def strip_special(text: str) -> str:
    return SPECIAL_TOKEN.sub("", text).replace("\ufffd", "")


def trim_suffix_overlap(text: str, ctx: CursorContext) -> str:
    """Remove what the document already has after the cursor."""
    if ctx.mode == modes.LINE:
        rest = ctx.line_suffix
        for k in range(min(len(rest), len(text)), 0, -1):
            if text.endswith(rest[:k]) and rest[:k].strip():
                return text[: len(text) - k]
        return text
    following = [line.strip() for line in ctx.suffix.splitlines() if line.strip()][:2]
    if not following:
        return text
    lines = text.split("\n")
    for i in range(1, len(lines)):
        if lines[i].strip() == following[0] and _follows(lines[i:], following):
            return "\n".join(lines[:i])
    return text


def _follows(lines: list[str], following: list[str]) -> bool:
    tail = [line.strip() for line in lines if line.strip()][: len(following)]
    return tail == following[: len(tail)]


def drop_repetition(text: str, max_period: int = 4) -> str:
    """Cut where a run of 1–4 lines starts repeating itself right away."""
    lines = text.split("\n")
    bare = [line.strip() for line in lines]
    for start in range(len(lines)):
        for period in range(1, max_period + 1):
            chunk = bare[start : start + period]
            again = bare[start + period : start + 2 * period]
            if len(again) == period and chunk == again and any(s.strip() for s in chunk):
                return "\n".join(lines[: start + period])
    return text


def parse_error_line(source: str) -> int | None:
    """1-based line of the first syntax error, or None if it parses."""
    try:
        ast.parse(source)
    except SyntaxError as exc:
        return exc.lineno or 1
    except (ValueError, RecursionError, MemoryError):
        return 1
    return None


def local_region(ctx: CursorContext) -> tuple[str, str]:
    """The enclosing top-level statement around the cursor: its text before and after."""
    before = ctx.prefix[region_start(ctx.prefix) :]
    match = TOP_LEVEL_STATEMENT.search(ctx.suffix, pos=ctx.suffix.find("\n") + 1) if (
        "\n" in ctx.suffix
    ) else None
    after = ctx.suffix[: match.start()] if match else ctx.suffix
    return before, after


def placeholder_body(source: str) -> str:
    """A ``pass`` body after a header that ends the text, so a finished header parses."""
    last = source.rstrip().rsplit("\n", 1)[-1]
    if not last.rstrip().endswith(":") or last.lstrip().startswith("#"):
        return ""
    return "\n" + last[: len(last) - len(last.lstrip())] + "    pass"


def parses_in_place(before: str, completion: str, after: str) -> bool:
    """The completion parses where it goes, or breaks nothing that was not broken."""
    completion = completion + placeholder_body(before + completion)
    error = parse_error_line(before + completion + after)
    if error is None:
        return True
    baseline = parse_error_line(before + after)
    if baseline is None:
        return False
    end_line = (before + completion).count("\n") + 1
    return error > end_line and error - completion.count("\n") >= baseline


def longest_parsing_prefix(text: str, ctx: CursorContext) -> str:
    before, after = local_region(ctx)
    lines = text.split("\n")
    for n in range(len(lines), 0, -1):
        candidate = "\n".join(lines[:n])
        if ctx.mode != modes.LINE and n < len(lines):
            candidate = candidate.rstrip()
        if candidate.strip() and parses_in_place(before, candidate, _joiner(candidate, after)):
            return candidate
    return ""


def _joiner(candidate: str, after: str) -> str:
    """Block completions end before a line break the document already has."""
    if after and not after.startswith(("\n", "\r")) and "\n" in candidate:
        return "\n" + after
    return after


def finish(raw: str, ctx: CursorContext, policy: StopPolicy, python: bool = True) -> Finished:
    text = strip_special(raw)
    cut = cut_point(text, policy)
    if cut is not None:
        text = text[:cut]
    text = text.rstrip() if ctx.mode != modes.LINE else text.rstrip(" \t\r\n")
    text = drop_repetition(trim_suffix_overlap(text, ctx))
    if python and text.strip():
        shorter = longest_parsing_prefix(text, ctx)
        if not shorter:
            return Finished("", "does not parse in place")
        text = shorter
    if not text.strip():
        return Finished("", "nothing useful")
    return Finished(text, "ok")
