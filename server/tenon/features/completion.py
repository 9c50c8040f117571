"""textDocument/completion: the same completion as a list item, for editors without ghost text."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from lsprotocol import types

from tenon.features.common import compute_completion, cursor_position, line_prefix

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
        word = word_before(line_prefix(snapshot))
        here = types.Range(cursor_position(ls, snapshot, position.line, len(word)),
                           cursor_position(ls, snapshot, position.line))
        result = types.CompletionList(is_incomplete=True, items=[item(done.text, here, word)])
        return ls.protocol.answer_for(snapshot.uri, snapshot.revision, result,
                                      types.CompletionList(is_incomplete=True, items=[]))


def item(text: str, here: types.Range, word: str) -> types.CompletionItem:
    first_line = text.split("\n", 1)[0].strip() or text.strip().split("\n", 1)[0]
    return types.CompletionItem(
        label=(word + first_line)[:80],
        kind=types.CompletionItemKind.Snippet,
        detail="Tenon",
        documentation=types.MarkupContent(types.MarkupKind.Markdown, f"```python\n{text}\n```"),
        filter_text=word + text,
        insert_text_format=types.InsertTextFormat.PlainText,
        text_edit=types.TextEdit(here, word + text),
        sort_text="0",
    )
