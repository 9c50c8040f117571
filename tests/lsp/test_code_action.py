"""“Generate from docstring” through a real LSP client, on the tiny trained model."""

from __future__ import annotations

from lsprotocol import types

from tests.support.lsp_client import (
    field,
    open_doc,
)

ADD = 'def add(a, b):\n    """Return the sum of a and b."""\n    pass\n'
SQUARE = ('def square(x):\n    """Return x squared.\n\n    >>> square(3)\n'
          '    9\n    """\n    raise NotImplementedError\n')


async def actions_at(client, uri: str, line: int, character: int = 4):
    here = types.Position(line, character)
    return await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri), range=types.Range(here, here),
        context=types.CodeActionContext(diagnostics=[])))


def apply(text: str, edit: types.TextEdit) -> str:
    lines = text.split("\n")
    start = sum(len(x) + 1 for x in lines[: edit.range.start.line]) + edit.range.start.character
    end = sum(len(x) + 1 for x in lines[: edit.range.end.line]) + edit.range.end.character
    return text[:start] + edit.new_text + text[end:]


def only_edit(action: types.CodeAction) -> types.TextEdit:
    changes = action.edit.document_changes
    assert len(changes) == 1 and len(changes[0].edits) == 1
    return changes[0].edits[0]


async def test_offered_only_on_stub_functions(client):
    uri = "file:///tmp/offer.py"
    open_doc(client, uri, ADD + "\n\ndef done():\n    \"\"\"Doc.\"\"\"\n    return 1\n")
    assert [a.title for a in await actions_at(client, uri, 0)] == ["Generate from docstring"]
    assert not await actions_at(client, uri, 5)


async def test_resolve_replaces_the_stub_with_an_indented_body(client):
    uri = "file:///tmp/add.py"
    open_doc(client, uri, ADD)
    (action,) = await actions_at(client, uri, 1)
    resolved = await client.code_action_resolve_async(action)
    edit = only_edit(resolved)
    assert edit.range.start == types.Position(1, 36)  # right after the docstring
    assert edit.range.end == types.Position(2, 8)  # the end of `pass`
    assert apply(ADD, edit) == 'def add(a, b):\n    """Return the sum of a and b."""\n' \
                               "    return a + b\n"
    assert resolved.edit.document_changes[0].text_document.version == 1


async def test_doctest_examples_rank_candidates(client):
    uri = "file:///tmp/square.py"
    open_doc(client, uri, SQUARE)
    (action,) = await actions_at(client, uri, 1, 4)
    assert action.title == "Generate from docstring (checks 1 doctest examples)"
    resolved = await client.code_action_resolve_async(action)
    new_text = apply(SQUARE, only_edit(resolved))
    assert new_text.endswith('    """\n    return x * x\n')
    assert "1/1 doctest examples pass" in resolved.title
    assert any("1/1 doctest examples pass" in m.message for m in client.messages)


async def test_document_that_moved_on_gets_no_edit(client):
    uri = "file:///tmp/moved.py"
    open_doc(client, uri, ADD)
    (action,) = await actions_at(client, uri, 1)
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(version=2, uri=uri),
        content_changes=[types.TextDocumentContentChangeWholeDocument(ADD + "# more\n")]))
    resolved = await client.code_action_resolve_async(action)
    assert resolved.edit is None
    assert any("changed since the action was offered" in m.message for m in client.messages)


async def test_command_fallback_applies_the_edit(client):
    uri = "file:///tmp/command.py"
    open_doc(client, uri, ADD)
    result = await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="tenon.generateFromDocstring",
        arguments=[uri, {"line": 1, "character": 4}, 1]))
    assert field(result, "applied") is True
    (applied,) = client.applied_edits[-1:]
    edit = applied.edit.document_changes[0].edits[0]
    assert apply(ADD, edit).endswith("    return a + b\n")
