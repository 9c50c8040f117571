"""Collect what the prompt needs beyond the text around the cursor.

- definitions from other open documents that the code near the cursor uses (by name), as
  their signature and docstring: enough for the model to call them correctly;
- the file's own imports, when the prefix budget cut them off.

Definitions are cached per document version in a :class:`DefinitionIndex`.
"""

from __future__ import annotations

import ast
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import PurePosixPath
from urllib.parse import unquote, urlparse

from tenon.prompt_format import ContextSnippet

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
WINDOW_LINES = 30


@dataclass(frozen=True)
class SourceDoc:
    uri: str
    version: int | None
    text: str


def short_path(uri: str) -> str:
    path = PurePosixPath(unquote(urlparse(uri).path))
    return "/".join(path.parts[-2:]) if len(path.parts) > 1 else path.name


def _docstring_lines(node: ast.AST, indent: str) -> list[str]:
    doc = ast.get_docstring(node)  # type: ignore[arg-type]
    if not doc:
        return []
    first = doc.strip().split("\n\n", 1)[0].strip()
    return [f'{indent}"""{first}"""']


def _header(source: str, node: ast.AST) -> str:
    segment = ast.get_source_segment(source, node) or ""
    lines = segment.split("\n")
    body_line = node.body[0].lineno - node.lineno  # type: ignore[attr-defined]
    return "\n".join(lines[: max(1, body_line)]).rstrip()


def summarize(source: str, node: ast.AST) -> str:
    """A definition as its header, docstring and ``...``; classes list their methods."""
    lines = [_header(source, node), *_docstring_lines(node, "    ")]
    if isinstance(node, ast.ClassDef):
        for item in node.body:
            if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                method = _header(source, item).strip().replace("\n", " ")
                lines += [f"    {method}", *_docstring_lines(item, "        "), "        ..."]
    else:
        lines.append("    ...")
    return "\n".join(lines)


def definitions_in(source: str) -> dict[str, str]:
    """Top-level functions and classes of a module, summarised; {} if it does not parse."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return {}
    kinds = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    return {node.name: summarize(source, node) for node in tree.body if isinstance(node, kinds)}


def imports_of(source: str) -> str:
    """The module's top-level import lines (works on half-written files)."""
    keep = [line for line in source.splitlines()
            if line.startswith("import ") or (line.startswith("from ") and " import " in line)]
    return "\n".join(keep[:60])


def defined_names(source: str) -> set[str]:
    return set(re.findall(r"^\s*(?:async\s+)?(?:def|class)\s+(\w+)", source, re.M)) | set(
        re.findall(r"^(\w+)\s*=", source, re.M))


def used_names(prefix: str, window: int = WINDOW_LINES) -> list[str]:
    """Identifiers near the cursor, the nearest first."""
    recent = "\n".join(prefix.split("\n")[-window:])
    seen: dict[str, None] = {}
    for name in reversed(IDENTIFIER.findall(recent)):
        seen.setdefault(name, None)
    return list(seen)


class DefinitionIndex:
    """Definitions of open documents, cached by (uri, version)."""

    def __init__(self, capacity: int = 64) -> None:
        self._cache: OrderedDict[tuple[str, int | None], dict[str, str]] = OrderedDict()
        self._lock = threading.Lock()
        self._capacity = capacity

    def of(self, doc: SourceDoc) -> dict[str, str]:
        key = (doc.uri, doc.version)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        found = definitions_in(doc.text)
        with self._lock:
            self._cache[key] = found
            while len(self._cache) > self._capacity:
                self._cache.popitem(last=False)
        return found


def collect_context(
    prefix: str, current: str, others: list[SourceDoc], index: DefinitionIndex, limit: int = 4
) -> tuple[ContextSnippet, ...]:
    """Definitions from other open documents that the code near the cursor refers to."""
    local = defined_names(current)
    wanted = [n for n in used_names(prefix) if n not in local]
    snippets: list[ContextSnippet] = []
    for name in wanted:
        for doc in others:
            found = index.of(doc).get(name)
            if found and all(s.text != found for s in snippets):
                snippets.append(ContextSnippet(short_path(doc.uri), found))
                break
        if len(snippets) >= limit:
            break
    return tuple(snippets)
