"""Find functions whose docstring is written and whose body is still a stub.

A stub body is nothing after the docstring, ``pass``, ``...`` or
``raise NotImplementedError``. Detection needs a parse; when the whole document does not
parse (half-written code elsewhere), the top-level statement around the cursor is parsed
on its own.
"""

from __future__ import annotations

import ast
import doctest
from dataclasses import dataclass

from tenon.context.classify import region_start
from tenon.context.positions import LineIndex
from tenon.postprocess import TOP_LEVEL_STATEMENT


@dataclass(frozen=True)
class Example:
    source: str
    want: str


@dataclass(frozen=True)
class StubFunction:
    name: str
    signature: str
    docstring: str
    indent: str  # the body's indentation
    replace_start: int  # offsets in the document: the stub to replace
    replace_end: int
    def_start: int  # offset of the ``def`` line
    def_end: int  # offset of the function's end
    examples: tuple[Example, ...]


def is_stub(statements: list[ast.stmt]) -> bool:
    if not statements:
        return True
    if len(statements) != 1:
        return False
    only = statements[0]
    if isinstance(only, ast.Pass):
        return True
    if isinstance(only, ast.Expr) and isinstance(only.value, ast.Constant):
        return only.value.value is Ellipsis
    if isinstance(only, ast.Raise) and only.exc is not None:
        target = only.exc.func if isinstance(only.exc, ast.Call) else only.exc
        return isinstance(target, ast.Name) and target.id == "NotImplementedError"
    return False


def examples_of(docstring: str) -> tuple[Example, ...]:
    try:
        parsed = doctest.DocTestParser().get_examples(docstring)
    except ValueError:
        return ()
    return tuple(Example(e.source, e.want) for e in parsed)


def _functions(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node


def _offset(index: LineIndex, line: int, col: int) -> int:
    """Offset of an ast (1-based line, UTF-8 byte column) position."""
    text = index.line_text(line - 1)
    return index.starts[line - 1] + len(text.encode("utf-8")[:col].decode("utf-8", "ignore"))


def _stub_of(node: ast.FunctionDef | ast.AsyncFunctionDef, index: LineIndex) -> StubFunction | None:
    body = node.body
    docstring = ast.get_docstring(node)
    if docstring is None or not is_stub(body[1:]):
        return None
    doc, last = body[0], body[-1]
    doc_line = index.line_text(doc.lineno - 1)
    end = _offset(index, last.end_lineno or last.lineno, last.end_col_offset or 0)
    return StubFunction(
        name=node.name,
        signature="\n".join(index.line_text(n - 1) for n in range(node.lineno, doc.lineno)),
        docstring=docstring,
        indent=doc_line[: len(doc_line) - len(doc_line.lstrip())],
        replace_start=_offset(index, doc.end_lineno or doc.lineno, doc.end_col_offset or 0),
        replace_end=end,
        def_start=_offset(index, node.lineno, 0),
        def_end=end,
        examples=examples_of(docstring),
    )


def find_stubs(text: str) -> list[StubFunction]:
    """Every stub function of a document that parses."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    index = LineIndex.of(text)
    return [s for node in _functions(tree) if (s := _stub_of(node, index)) is not None]


def _region(text: str, offset: int) -> tuple[int, int]:
    start = region_start(text[:offset])
    rest = text[offset:]
    newline = rest.find("\n")
    match = TOP_LEVEL_STATEMENT.search(rest, pos=newline + 1) if newline != -1 else None
    return start, offset + (match.start() if match else len(rest))


PARSE_LIMIT = 256 * 1024  # characters parsed per request (a 10 MB file took ~10 s)


def stub_at(text: str, offset: int) -> StubFunction | None:
    """The stub function whose ``def`` … body contains ``offset``, innermost first.

    Code actions are asked for on every cursor move: a document over ``PARSE_LIMIT`` is
    never parsed whole, only the top-level statement around the cursor (if that is small).
    """
    candidates = find_stubs(text) if len(text) <= PARSE_LIMIT else []
    if not candidates:
        candidates = _stubs_in_region(text, offset)
    inside = [s for s in candidates if s.def_start <= offset <= max(s.def_end, s.replace_end)]
    return max(inside, key=lambda s: s.def_start, default=None)


def _stubs_in_region(text: str, offset: int) -> list[StubFunction]:
    start, end = _region(text, offset)
    if end - start > PARSE_LIMIT:
        return []
    found = find_stubs(text[start:end])
    shift = start
    return [
        StubFunction(s.name, s.signature, s.docstring, s.indent, s.replace_start + shift,
                     s.replace_end + shift, s.def_start + shift, s.def_end + shift, s.examples)
        for s in found
    ]
