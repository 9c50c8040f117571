"""LSP positions ↔ string offsets, in the client's negotiated encoding.

LSP lines end at ``\\n``, ``\\r\\n`` or ``\\r`` only (not at the other characters Python's
``str.splitlines`` breaks on), and a column counts UTF-16 code units unless the client
negotiated UTF-8 or UTF-32. A column past the end of its line means the end of the line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

LINE_BREAK = re.compile(r"\r\n|\r|\n")
ENCODINGS = ("utf-16", "utf-8", "utf-32")


class PositionError(ValueError):
    """A position that lies outside the document."""


@dataclass(frozen=True)
class LineIndex:
    """Start offset of every line of a text, for fast position conversion."""

    text: str
    starts: tuple[int, ...]

    @classmethod
    def of(cls, text: str) -> LineIndex:
        return cls(text, (0, *(m.end() for m in LINE_BREAK.finditer(text))))

    def line_text(self, line: int) -> str:
        """The line's text without its line break."""
        start = self.starts[line]
        end = self.starts[line + 1] if line + 1 < len(self.starts) else len(self.text)
        return self.text[start:end].rstrip("\r\n")

    def offset(self, line: int, character: int, encoding: str = "utf-16") -> int:
        if line < 0 or character < 0:
            raise PositionError(f"negative position {line}:{character}")
        if line >= len(self.starts):
            raise PositionError(
                f"line {line} is past the end of the document ({len(self.starts)} lines)"
            )
        text = self.line_text(line)
        return self.starts[line] + column_to_index(text, character, encoding)

    def position(self, offset: int, encoding: str = "utf-16") -> tuple[int, int]:
        offset = max(0, min(offset, len(self.text)))
        line = _bisect(self.starts, offset)
        prefix = self.text[self.starts[line] : offset]
        return line, units(prefix, encoding)


def _bisect(starts: tuple[int, ...], offset: int) -> int:
    lo, hi = 0, len(starts) - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if starts[mid] <= offset:
            lo = mid
        else:
            hi = mid - 1
    return lo


def units(text: str, encoding: str = "utf-16") -> int:
    """Length of ``text`` in the encoding's code units."""
    if encoding == "utf-32":
        return len(text)
    if encoding == "utf-8":
        return len(text.encode("utf-8", "surrogatepass"))
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def column_to_index(line: str, column: int, encoding: str = "utf-16") -> int:
    """Index into ``line`` of a column in code units; past the end means the end.

    A column that falls inside a character (between a surrogate pair's halves, or inside a
    UTF-8 sequence) rounds down to that character's start.
    """
    if encoding == "utf-32":
        return min(column, len(line))
    count = 0
    for index, ch in enumerate(line):
        width = units(ch, encoding)
        if count + width > column:
            return index
        count += width
    return len(line)
