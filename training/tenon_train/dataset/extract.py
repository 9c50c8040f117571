"""Examples from one Python file, found with ``ast``: where a user would ask for code.

- ``body``: a function or method with a docstring; the cursor on the indented line after
  the docstring, the middle is the rest of the body (docstring → body).
- ``comment``: a full-line comment directly above a statement at the same indentation; the
  middle is that statement and the ones after it up to a blank line or another comment
  (comment → block).
- ``fim-line``: the cursor somewhere inside a line of code; the middle is the rest of it.
- ``fim-span``: the cursor at the start of a line (after its indentation); the middle is a
  few whole lines.

Every example keeps the text before and after the middle, so it renders exactly like a
server request at that cursor (fill-in-the-middle with the suffix).
"""

from __future__ import annotations

import ast
import io
import random
import tokenize
from dataclasses import dataclass

BODY, COMMENT, FIM_LINE, FIM_SPAN = "body", "comment", "fim-line", "fim-span"
KINDS = (BODY, COMMENT, FIM_LINE, FIM_SPAN)
BLOCK_LINES = 12  # most lines of a comment's block (the server's comment mode allows 24)


@dataclass(frozen=True)
class Span:
    kind: str
    start: int  # character offset of the cursor
    end: int  # end of the middle
    qualname: str = ""
    intent: str = ""  # the docstring or comment that asks for the middle


class Lines:
    """Offsets of a text's lines; converts ``ast``'s UTF-8 byte columns to characters."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.lines = text.splitlines(keepends=True)
        self.starts = [0]
        for line in self.lines:
            self.starts.append(self.starts[-1] + len(line))

    def offset(self, lineno: int, col_bytes: int) -> int:
        line = self.lines[lineno - 1]
        return self.starts[lineno - 1] + len(line.encode("utf-8")[:col_bytes].decode("utf-8",
                                                                                      "ignore"))

    def line(self, lineno: int) -> str:
        return self.lines[lineno - 1] if 0 < lineno <= len(self.lines) else ""

    def indent_of(self, lineno: int) -> str:
        line = self.line(lineno)
        return line[: len(line) - len(line.lstrip(" \t"))]


def docstring_node(node: ast.AST) -> ast.Expr | None:
    body = getattr(node, "body", None)
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) and (
            isinstance(body[0].value.value, str)):
        return body[0]
    return None


def _qualnames(tree: ast.Module) -> dict[ast.AST, str]:
    names: dict[ast.AST, str] = {}

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = f"{prefix}{child.name}"
                names[child] = name
                visit(child, f"{name}." if isinstance(child, ast.ClassDef) else f"{name}.<locals>.")
            else:
                visit(child, prefix)

    visit(tree, "")
    return names


def body_spans(tree: ast.Module, lines: Lines) -> list[Span]:
    spans = []
    for node, qualname in _qualnames(tree).items():
        if isinstance(node, ast.ClassDef):
            continue
        doc = docstring_node(node)
        if doc is None or len(node.body) < 2 or node.body[1].lineno == doc.end_lineno:
            continue
        first = doc.end_lineno + 1
        while first < node.body[1].lineno and not lines.line(first).strip():
            first += 1
        indent = lines.indent_of(first)
        start = lines.starts[first - 1] + len(indent)
        end = lines.offset(node.end_lineno, node.end_col_offset)
        spans.append(Span(BODY, start, end, qualname, ast.get_docstring(node) or ""))
    return spans


def comment_lines(text: str) -> dict[int, str]:
    """Full-line comments by line number (their text without ``#``)."""
    found = {}
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.COMMENT and not token.line[: token.start[1]].strip():
                found[token.start[0]] = token.string.lstrip("#").strip()
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return {}
    return found


def _statement_lists(tree: ast.Module):
    for node in ast.walk(tree):
        for name in ("body", "orelse", "finalbody"):
            block = getattr(node, name, None)
            if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
                yield block


def _comment_above(stmt: ast.stmt, comments: dict[int, str], lines: Lines) -> str:
    """The comment block right above ``stmt`` at its indentation, or ''."""
    indent = lines.indent_of(stmt.lineno)
    texts = []
    number = stmt.lineno - 1
    while number in comments and lines.indent_of(number) == indent:
        texts.append(comments[number])
        number -= 1
    return "\n".join(reversed(texts))


def comment_spans(tree: ast.Module, lines: Lines, comments: dict[int, str]) -> list[Span]:
    spans = []
    for block in _statement_lists(tree):
        for i, stmt in enumerate(block):
            first_line = getattr(stmt, "decorator_list", None) and stmt.decorator_list[0].lineno
            if first_line and first_line < stmt.lineno:
                continue  # a decorated definition: the comment sits above the decorator
            intent = _comment_above(stmt, comments, lines)
            if not intent:
                continue
            last = stmt
            for nxt in block[i + 1:]:
                if nxt.lineno != last.end_lineno + 1 or nxt.end_lineno - stmt.lineno >= BLOCK_LINES:
                    break
                last = nxt
            start = lines.starts[stmt.lineno - 1] + len(lines.indent_of(stmt.lineno))
            end = lines.offset(last.end_lineno, last.end_col_offset)
            spans.append(Span(COMMENT, start, end, intent=intent))
    return spans


def _code_lines(tree: ast.Module, lines: Lines) -> list[int]:
    """Lines that hold simple statements (not inside strings, not comments)."""
    numbers = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.stmt) and not isinstance(node, (
                ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and (
                node.lineno == node.end_lineno) and lines.line(node.lineno).strip():
            numbers.add(node.lineno)
    return sorted(numbers)


def fim_spans(tree: ast.Module, lines: Lines, rng: random.Random, per_file: int) -> list[Span]:
    candidates = _code_lines(tree, lines)
    if not candidates:
        return []
    spans = []
    for number in rng.sample(candidates, min(per_file, len(candidates))):
        line = lines.line(number).rstrip("\r\n")
        indent = len(line) - len(line.lstrip())
        begin = lines.starts[number - 1]
        if rng.random() < 0.5 and len(line) - indent > 8:
            cut = rng.randint(indent + 1, len(line) - 3)
            spans.append(Span(FIM_LINE, begin + cut, begin + len(line)))
        else:
            count = rng.randint(1, 6)
            last = min(len(lines.lines), number + count - 1)
            end = lines.starts[last - 1] + len(lines.line(last).rstrip("\r\n"))
            spans.append(Span(FIM_SPAN, begin + indent, end))
    return spans


def extract(text: str, seed: int, fim_per_file: int = 3) -> list[Span]:
    """Every example span of one file (an empty list if it does not parse)."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    lines = Lines(text)
    rng = random.Random(seed)
    return [*body_spans(tree, lines), *comment_spans(tree, lines, comment_lines(text)),
            *fim_spans(tree, lines, rng, fim_per_file)]
