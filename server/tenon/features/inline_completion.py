"""textDocument/inlineCompletion: ghost text at the cursor."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types

from tenon.features.common import compute_completion, cursor_position

if TYPE_CHECKING:
    from tenon.server import TenonServer


def register(server: TenonServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionOptions())
    async def inline_completion(
        ls: TenonServer, params: types.InlineCompletionParams
    ) -> types.InlineCompletionList | None:
        found = await compute_completion(ls, params.text_document.uri, params.position, "inline")
        if found is None:
            return types.InlineCompletionList(items=[])
        snapshot, done = found
        cursor = cursor_position(ls, snapshot, params.position.line)
        here = types.Range(cursor, cursor)
        result = types.InlineCompletionList(
            items=[types.InlineCompletionItem(insert_text=done.text, range=here)]
        )
        return ls.protocol.answer_for(snapshot.uri, snapshot.revision, result,
                                      types.InlineCompletionList(items=[]))
