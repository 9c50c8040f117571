"""Stop rules, applied while decoding: where must this completion end?

:func:`cut_point` looks at the text generated so far and returns the index where the
completion ends, or ``None`` while it may go on. The engine calls it after every token (so
generation stops as soon as a rule fires) and post-processing cuts the final text at it.

Rules, by mode:
- every mode: a closing bracket that closes more than the brackets open at the cursor
  (minus those the rest of the line already closes);
- ``line``: the end of the line;
- block modes: a line indented less than the block (the block ended), a new top-level
  statement after an indented one, and a line limit;
- ``comment``: also a blank line or a new comment after the code (the step ended);
- ``block``: also a blank line after the code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tenon.context import classify as modes
from tenon.context.classify import CursorContext, leading_ws
from tenon.context.lexer import first_unmatched_closer

NEW_UNIT = re.compile(r"(def|class|async\s+def|if\s+__name__)\b|@")
CONTINUATION = re.compile(r"(else|elif|except|finally)\b|[)\]}]")


@dataclass(frozen=True)
class StopPolicy:
    mode: str
    indent: str  # the block's indentation; a non-blank line indented less ends it
    max_lines: int
    allowed_closers: int
    stop_at_blank: bool
    stop_at_comment: bool


@dataclass(frozen=True)
class LineLimits:
    line: int = 1
    comment: int = 24
    body: int = 80
    block: int = 12

    def for_mode(self, mode: str) -> int:
        return {modes.LINE: self.line, modes.COMMENT_INTENT: self.comment,
                modes.DOCSTRING_BODY: self.body}.get(mode, self.block)


def closers_in(text: str) -> int:
    count = 0
    for ch in text.lstrip():
        if ch not in ")]}":
            break
        count += 1
    return count


def policy_for(ctx: CursorContext, limits: LineLimits | None = None) -> StopPolicy:
    limits = limits or LineLimits()
    allowed = max(0, ctx.open_brackets - closers_in(ctx.line_suffix))
    return StopPolicy(
        mode=ctx.mode,
        indent=ctx.indent,
        max_lines=limits.for_mode(ctx.mode),
        allowed_closers=allowed,
        stop_at_blank=ctx.mode in (modes.COMMENT_INTENT, modes.BLOCK),
        stop_at_comment=ctx.mode == modes.COMMENT_INTENT,
    )


def _line_starts(text: str) -> list[int]:
    return [0, *(m.end() for m in re.finditer("\n", text))]


def _block_cut(text: str, policy: StopPolicy) -> int | None:
    """Where a multi-line completion must end, judged line by line."""
    starts = _line_starts(text)
    content_lines = 0
    seen_indented = False
    seen_blank = False
    for number, start in enumerate(starts):
        end = text.find("\n", start)
        complete = end != -1
        line = text[start:] if not complete else text[start:end]
        if not line.strip():
            if complete and content_lines:
                seen_blank = True
            continue
        cut = start - 1 if number else 0  # end the completion before this line
        if number and _ends_block(line, policy, seen_indented, seen_blank, content_lines):
            return cut
        if content_lines >= policy.max_lines:
            return cut
        content_lines += 1
        ws = policy.indent + leading_ws(line) if number == 0 else leading_ws(line)
        seen_indented = seen_indented or len(ws) > len(policy.indent)
    return None


def _ends_block(
    line: str, policy: StopPolicy, seen_indented: bool, seen_blank: bool, content: int
) -> bool:
    """Does this line (not the first) start past the end of the completion?"""
    ws = leading_ws(line)
    body = line[len(ws) :]
    level = len(ws) == len(policy.indent)
    top_level_again = (
        level and seen_indented and not policy.indent
        and not body.startswith("#") and not CONTINUATION.match(body)
    )
    new_unit = level and content > 0 and bool(NEW_UNIT.match(body)) and (
        policy.mode != modes.DOCSTRING_BODY or not policy.indent
    )
    return (
        len(ws) < len(policy.indent)
        or (policy.stop_at_blank and seen_blank and content > 0)
        or top_level_again
        or new_unit
        or (policy.stop_at_comment and level and body.startswith("#"))
    )


def cut_point(text: str, policy: StopPolicy) -> int | None:
    """Index where the completion ends, or None if generation may continue."""
    cuts = []
    closer = first_unmatched_closer(text, policy.allowed_closers)
    if closer != -1:
        cuts.append(closer)
    if policy.mode == modes.LINE:
        newline = text.find("\n")
        if newline != -1:
            cuts.append(newline)
    else:
        block = _block_cut(text, policy)
        if block is not None:
            cuts.append(max(block, 0))
    return min(cuts) if cuts else None
