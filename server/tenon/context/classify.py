"""Classify the cursor: what is the developer about to write?

- ``line``: the cursor is mid-line, in a comment or in a string: finish the line.
- ``comment``: the line above is a comment and the cursor starts a line: write the code
  the comment describes, and stop where that step ends.
- ``body``: the cursor starts the body of a function whose docstring is written: write the
  body, and stop at the end of the function.
- ``block``: the cursor starts a line in plain code: write the next few lines.

Works on half-written code: only a forgiving lexer and line structure are used here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tenon.context import lexer
from tenon.context.snapshot import Snapshot

LINE = "line"
COMMENT_INTENT = "comment"
DOCSTRING_BODY = "body"
BLOCK = "block"
MODES = (LINE, COMMENT_INTENT, DOCSTRING_BODY, BLOCK)

DEF_LINE = re.compile(r"^(\s*)(async\s+)?def\s+\w+")
CLASS_LINE = re.compile(r"^(\s*)class\s+(\w+)")
TOP_LEVEL_START = re.compile(r"^(?![\s#)\]}]|$)(?!(else|elif|except|finally)\b)")
DOC_OPEN = re.compile(r"^\s*[rRuUbBfF]{0,2}(\"\"\"|''')")


@dataclass(frozen=True)
class CursorContext:
    mode: str
    prefix: str
    suffix: str
    line_prefix: str
    line_suffix: str
    indent: str  # indentation the generated code lives at
    open_brackets: int  # brackets open at the cursor (in code)
    intent: str = ""  # the comment or docstring that describes what to write
    signature: str = ""  # the enclosing function's header, for ``body``
    enclosing_class: str = ""


def leading_ws(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t"))]


def region_start(prefix: str) -> int:
    """Start of the top-level statement that holds the end of ``prefix``."""
    end = len(prefix)
    while end > 0:
        start = prefix.rfind("\n", 0, end - 1) + 1
        line_end = prefix.find("\n", start)
        line = prefix[start:] if line_end == -1 else prefix[start:line_end]
        if TOP_LEVEL_START.match(line):
            return start
        end = start
    return 0


def indent_unit(text: str) -> str:
    """The file's indentation step: a tab, or the smallest run of spaces that indents."""
    sizes = set()
    for line in text.splitlines()[:400]:
        ws = leading_ws(line)
        if ws.startswith("\t"):
            return "\t"
        if ws and line.strip():
            sizes.add(len(ws))
    return " " * min(sizes) if sizes else "    "


def previous_lines(prefix: str) -> list[str]:
    """Complete lines before the cursor line, nearest first."""
    head = prefix[: prefix.rfind("\n") + 1] if "\n" in prefix else ""
    return head.splitlines()[::-1]


def _comment_block(lines: list[str], blank_allowed: int = 1) -> list[str]:
    """The comment lines just above the cursor (one blank line between is allowed)."""
    skipped = 0
    while skipped < min(blank_allowed, len(lines)) and not lines[skipped].strip():
        skipped += 1
    block = []
    for line in lines[skipped:]:
        if not line.strip().startswith("#"):
            break
        block.append(line.strip().lstrip("#").strip())
    return block[::-1]


def _header_above(lines: list[str]) -> tuple[str, str] | None:
    """(signature, intent) when the nearest line ends a ``def`` header with an empty body.

    The intent is the comment block above the ``def`` (and its decorators), if any.
    """
    nonblank = [i for i, line in enumerate(lines) if line.strip()]
    if not nonblank or not lines[nonblank[0]].rstrip().endswith(":"):
        return None
    first = nonblank[0]
    for j in range(first, min(len(lines), first + 30)):
        if DEF_LINE.match(lines[j]):
            above = [line for line in lines[j + 1 :] if not line.strip().startswith("@")]
            intent = "\n".join(_comment_block(above, blank_allowed=0))
            return "\n".join(lines[first : j + 1][::-1]), intent
        if not lines[j].strip() or (j > first and lines[j].rstrip().endswith(":")):
            return None
    return None


def _docstring_above(lines: list[str]) -> tuple[str, str, str] | None:
    """(docstring, signature, indent) when the nearest lines close a def's docstring.

    ``lines`` runs upwards from the cursor.
    """
    nonblank = [i for i, line in enumerate(lines) if line.strip()]
    if not nonblank:
        return None
    close = nonblank[0]
    last = lines[close].rstrip()
    if not last.endswith(('"""', "'''")):
        return None
    quote = last[-3:]
    for i in range(close, min(len(lines), close + 200)):
        line = lines[i]
        if DOC_OPEN.match(line) and (i != close or line.count(quote) >= 2):
            doc = "\n".join(text.strip() for text in lines[close : i + 1][::-1])
            signature = _signature_above(lines, i)
            if signature is None:
                return None
            return doc.replace(quote, "").strip(), signature, leading_ws(line)
        if i != close and quote in line:
            return None
    return None


def _signature_above(lines: list[str], doc_index: int) -> str | None:
    """The ``def`` header just above the docstring opening at ``doc_index``, if any."""
    first = doc_index + 1
    if first >= len(lines) or not lines[first].rstrip().endswith(":"):
        return None
    for j in range(first, min(len(lines), first + 30)):
        if DEF_LINE.match(lines[j]):
            return "\n".join(lines[first : j + 1][::-1])
        if not lines[j].strip():
            return None
    return None


def _enclosing_class(lines: list[str], indent: str) -> str:
    for line in lines:
        match = CLASS_LINE.match(line)
        if match and len(match.group(1)) < len(indent):
            return match.group(2)
        if line.strip() and not leading_ws(line) and not line.startswith(("#", "@")):
            return ""
    return ""


def block_indent(line_prefix: str, lines: list[str], unit: str) -> str:
    """Indentation for code that starts at the cursor on an otherwise empty line."""
    if line_prefix:
        return line_prefix
    for line in lines:
        if line.strip():
            ws = leading_ws(line)
            return ws + unit if line.rstrip().endswith(":") else ws
    return ""


def classify(snapshot: Snapshot) -> CursorContext:
    prefix, suffix = snapshot.prefix, snapshot.suffix
    line_prefix = prefix[prefix.rfind("\n") + 1 :]
    line_suffix = re.split(r"\r\n|\r|\n", suffix, maxsplit=1)[0]
    state = lexer.scan(prefix[region_start(prefix) :])
    lines = previous_lines(prefix)
    base = {
        "prefix": prefix,
        "suffix": suffix,
        "line_prefix": line_prefix,
        "line_suffix": line_suffix,
        "open_brackets": state.depth,
    }
    if state.kind != lexer.CODE or line_prefix.strip() or line_suffix.strip():
        return CursorContext(mode=LINE, indent=leading_ws(line_prefix), **base)
    unit = indent_unit(prefix[-20000:])
    indent = block_indent(line_prefix, lines, unit)
    enclosing = _enclosing_class(lines, indent)
    comment = _comment_block(lines)
    if comment:
        return CursorContext(mode=COMMENT_INTENT, indent=indent, intent="\n".join(comment),
                             enclosing_class=enclosing, **base)
    found = _docstring_above(lines)
    if found is not None:
        docstring, signature, doc_indent = found
        return CursorContext(mode=DOCSTRING_BODY, indent=line_prefix or doc_indent,
                             intent=docstring, signature=signature,
                             enclosing_class=enclosing, **base)
    header = _header_above(lines)
    if header is not None:
        return CursorContext(mode=DOCSTRING_BODY, indent=indent, intent=header[1],
                             signature=header[0], enclosing_class=enclosing, **base)
    return CursorContext(mode=BLOCK, indent=indent, enclosing_class=enclosing, **base)
