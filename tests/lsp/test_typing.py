"""Typing through a suggestion, over stdio with the real server and a tiny real model."""

from __future__ import annotations

from lsprotocol import types

from tests.support.lsp_client import (
    end_position,
    field,
    open_doc,
)

DOC = ("class Stack:\n    def __init__(self):\n        self.items = []\n\n"
       "    def push(self, item):\n        self.items.")


async def inline(client, uri: str, position: types.Position) -> list[str]:
    result = await client.text_document_inline_completion_async(types.InlineCompletionParams(
        text_document=types.TextDocumentIdentifier(uri), position=position,
        context=types.InlineCompletionContext(types.InlineCompletionTriggerKind.Automatic)))
    return [item.insert_text for item in result.items]


def type_text(client, uri: str, version: int, at: types.Position, text: str) -> None:
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        types.VersionedTextDocumentIdentifier(uri=uri, version=version),
        [types.TextDocumentContentChangePartial(range=types.Range(at, at), text=text)]))


async def generations(client) -> int:
    stats = await client.protocol.send_request_async("tenon/stats", {})
    return int(field(field(stats, "engine"), "generations"))


async def test_typing_the_suggestion_gets_its_rest_without_generating(client):
    uri = "file:///tmp/typing.py"
    open_doc(client, uri, DOC)
    cursor = end_position(DOC)
    [suggestion] = await inline(client, uri, cursor)
    assert len(suggestion) > 2 and "\n" not in suggestion[:2]
    before = await generations(client)
    type_text(client, uri, 2, cursor, suggestion[:2])
    after_typing = types.Position(cursor.line, cursor.character + 2)
    assert await inline(client, uri, after_typing) == [suggestion[2:]]
    assert await generations(client) == before


async def test_typing_something_else_generates_again(client):
    uri = "file:///tmp/typing_other.py"
    open_doc(client, uri, DOC)
    cursor = end_position(DOC)
    [suggestion] = await inline(client, uri, cursor)
    other = "x" if not suggestion.startswith("x") else "y"
    before = await generations(client)
    type_text(client, uri, 2, cursor, other)
    await inline(client, uri, types.Position(cursor.line, cursor.character + 1))
    assert await generations(client) == before + 1
