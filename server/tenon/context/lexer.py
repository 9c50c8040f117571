"""A small, forgiving Python lexer: is the end of this text in code, a comment or a string?

It never raises: half-written code is the normal case in an editor. It knows comments,
string prefixes, triple quotes and backslash escapes, which is all classification needs.
"""

from __future__ import annotations

from dataclasses import dataclass

CODE = "code"
COMMENT = "comment"
STRING = "string"


@dataclass(frozen=True)
class LexState:
    kind: str  # CODE, COMMENT or STRING
    start: int  # where the open comment or string began (-1 in code)
    triple: bool = False  # the open string is triple-quoted
    depth: int = 0  # open brackets at the end, in code


def _string_end(text: str, start: int, quote: str) -> int:
    """Index just past the string that opens at ``start``, or -1 if it never closes."""
    i = start + len(quote)
    single = len(quote) == 1
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if single and ch in "\r\n":
            return i  # an unterminated one-line string ends at the line break
        if text.startswith(quote, i):
            return i + len(quote)
        i += 1
    return -1


def scan(text: str) -> LexState:
    """Lexical state at the end of ``text``."""
    depth = 0
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "#":
            end = text.find("\n", i)
            if end == -1:
                return LexState(COMMENT, i, depth=depth)
            i = end + 1
            continue
        if ch in "\"'":
            quote = ch * 3 if text.startswith(ch * 3, i) else ch
            end = _string_end(text, i, quote)
            if end == -1:
                return LexState(STRING, i, triple=len(quote) == 3, depth=depth)
            i = end
            continue
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth = max(0, depth - 1)
        i += 1
    return LexState(CODE, -1, depth=depth)


def first_unmatched_closer(text: str, allowed: int) -> int:
    """Index of the first closer that would close more than ``allowed`` outer brackets."""
    depth = 0
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "#":
            end = text.find("\n", i)
            i = len(text) if end == -1 else end + 1
            continue
        if ch in "\"'":
            quote = ch * 3 if text.startswith(ch * 3, i) else ch
            end = _string_end(text, i, quote)
            i = len(text) if end == -1 else end
            continue
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
            if depth < -allowed:
                return i
        i += 1
    return -1
