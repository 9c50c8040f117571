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
        cursor = cursor_position(ls, found[0], params.position.line)
        here = types.Range(cursor, cursor)
        return types.InlineCompletionList(
            items=[types.InlineCompletionItem(insert_text=found[1].text, range=here)]
        )
