"""Build the prompt: cut prefix and suffix to token budgets, then render the shared format."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tenon.prompt_format import ContextSnippet, FimTokens, PromptParts, render_prompt, uses_fim

CountTokens = Callable[[str], int]
CHARS_PER_TOKEN_MAX = 8  # generous: a token is rarely longer than this many characters
PREFIX_STRIDE_LINES = 16  # most lines between the possible first lines of a cut prefix


@dataclass(frozen=True)
class Budgets:
    prefix_tokens: int = 1024
    suffix_tokens: int = 256
    context_tokens: int = 256


@dataclass(frozen=True)
class BuiltPrompt:
    text: str
    parts: PromptParts
    fim: bool


def _fit_lines(lines: list[str], budget: int, count: CountTokens, keep_end: bool) -> int:
    """How many lines (from the end if ``keep_end``) fit in ``budget`` tokens."""
    lo, hi = 0, len(lines)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        chunk = lines[len(lines) - mid :] if keep_end else lines[:mid]
        if count("".join(chunk)) <= budget:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _split_lines(text: str) -> list[str]:
    """``text`` in lines that keep their ``\\n`` (only ``\\n`` ends a line here, so line
    numbers agree with ``str.count("\\n")``)."""
    pieces = text.split("\n")
    return [piece + "\n" for piece in pieces[:-1]] + ([pieces[-1]] if pieces[-1] else [])


def cut_prefix(prefix: str, budget: int, count: CountTokens) -> str:
    """The end of ``prefix`` that fits the budget, starting at a line boundary.

    The first kept line is moved down to the next multiple of a stride (counted from the
    top of the document; one line per 64 tokens of budget, at most 16), so the cursor can
    move by up to a stride's lines, or the user press Enter that many times, and the prompt
    still starts with the same text: the engine's cached prefix then covers it (a window
    sliding line by line would share nothing with the prompt before it).
    """
    if budget <= 0:
        return ""
    window = prefix[-budget * CHARS_PER_TOKEN_MAX :]
    if count(window) <= budget and len(window) == len(prefix):
        return prefix
    lines = _split_lines(window)
    cut = len(window) < len(prefix)
    if cut and lines:
        lines = lines[1:]  # the first line of the window may be cut: drop it
    if not lines:
        return ""
    last = lines[-1]
    if count(last) > budget:  # one very long cursor line: keep its end only
        return _cut_chars_end(last, budget, count)
    keep = _fit_lines(lines[:-1], budget - count(last), count, keep_end=True)
    start = len(lines) - 1 - keep
    first_line = prefix.count("\n", 0, len(prefix) - len(window)) + cut  # of lines[0]
    stride = max(1, min(PREFIX_STRIDE_LINES, budget // 64))
    aligned = -(-(first_line + start) // stride) * stride - first_line
    return "".join(lines[aligned if aligned < len(lines) - 1 else start : -1]) + last


def _cut_chars_end(text: str, budget: int, count: CountTokens) -> str:
    lo, hi = 0, len(text)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if count(text[len(text) - mid :]) <= budget:
            lo = mid
        else:
            hi = mid - 1
    return text[len(text) - lo :]


def cut_suffix(suffix: str, budget: int, count: CountTokens) -> str:
    """The start of ``suffix`` that fits the budget, ending at a line boundary."""
    if budget <= 0 or not suffix:
        return ""
    window = suffix[: budget * CHARS_PER_TOKEN_MAX]
    if len(window) == len(suffix) and count(window) <= budget:
        return suffix
    lines = window.splitlines(keepends=True)
    if len(window) < len(suffix) and len(lines) > 1:
        lines = lines[:-1]
    return "".join(lines[: _fit_lines(lines, budget, count, keep_end=False)])


def cut_context(
    snippets: tuple[ContextSnippet, ...], budget: int, count: CountTokens
) -> tuple[ContextSnippet, ...]:
    kept: list[ContextSnippet] = []
    used = 0
    for snippet in snippets:
        cost = count(f"# file: {snippet.path}\n{snippet.text}\n\n")
        if used + cost > budget:
            break
        kept.append(snippet)
        used += cost
    return tuple(kept)


def build_prompt(
    prefix: str,
    suffix: str,
    budgets: Budgets,
    count: CountTokens,
    fim: FimTokens | None,
    context: tuple[ContextSnippet, ...] = (),
    header: ContextSnippet | None = None,
) -> BuiltPrompt:
    """Cut to the budgets and render; ``header`` (the file's imports) joins the context
    only when the prefix had to be cut before it."""
    kept = cut_prefix(prefix, budgets.prefix_tokens, count)
    if header is not None and len(kept) < len(prefix) and header.text not in kept:
        context = (*context, header)
    parts = PromptParts(
        prefix=kept,
        suffix=cut_suffix(suffix, budgets.suffix_tokens, count) if fim else "",
        context=cut_context(context, budgets.context_tokens, count),
    )
    return BuiltPrompt(render_prompt(parts, fim), parts, uses_fim(parts, fim))
