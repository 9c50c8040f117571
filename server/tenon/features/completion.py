"""textDocument/completion: the same completion as a list item, for editors without ghost text."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from lsprotocol import types

from tenon.features.common import compute_completion

if TYPE_CHECKING:
    from tenon.server import TenonServer

WORD_END = re.compile(r"[A-Za-z_0-9]*$")


def word_before(line_prefix: str) -> str:
    match = WORD_END.search(line_prefix)
    return match.group(0) if match else ""


def register(server: TenonServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions())
    async def completion(
        ls: TenonServer, params: types.CompletionParams
    ) -> types.CompletionList:
        uri, position = params.text_document.uri, params.position
        found = await compute_completion(ls, uri, position, "completion")
        if found is None:
            return types.CompletionList(is_incomplete=True, items=[])
        snapshot, done = found
        line_prefix = snapshot.prefix[snapshot.prefix.rfind("\n") + 1 :]
        word = word_before(line_prefix)
        return types.CompletionList(is_incomplete=True, items=[item(done.text, position, word)])


def item(text: str, position: types.Position, word: str) -> types.CompletionItem:
    start = types.Position(position.line, position.character - len(word))
    first_line = text.split("\n", 1)[0].strip() or text.strip().split("\n", 1)[0]
    return types.CompletionItem(
        label=(word + first_line)[:80],
        kind=types.CompletionItemKind.Snippet,
        detail="Tenon",
        documentation=types.MarkupContent(types.MarkupKind.Markdown, f"```python\n{text}\n```"),
        filter_text=word + text,
        insert_text_format=types.InsertTextFormat.PlainText,
        text_edit=types.TextEdit(types.Range(start, position), word + text),
        sort_text="0",
    )
