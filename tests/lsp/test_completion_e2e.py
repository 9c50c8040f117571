"""End to end over stdio: a real client (as VS Code) against the real server and engine.

The tiny model was trained to recite a small corpus; the completion the server returns
must equal what torch greedy decoding gives for the same prompt, built by the same prompt
builder and cut by the same post-processing.
"""

from __future__ import annotations

import pytest
import torch
from lsprotocol import types

from tenon.bundle import load_bundle
from tenon.completion import budgets_of, max_tokens_for
from tenon.context.classify import classify
from tenon.context.prompt import build_prompt
from tenon.context.snapshot import make_snapshot
from tenon.inference.healing import back_off
from tenon.postprocess import finish
from tenon.settings import Settings
from tenon.stop_rules import policy_for
from tenon.tokenizer import TextCodec
from tests.support.lsp_client import (
    end_position,
    field,
    open_doc,
)

DOCS = {
    "body": 'def fibonacci(n):\n    """Return the n-th Fibonacci number."""\n    ',
    "comment": "def read_port(path):\n    # read the config file and return the port as an int\n"
               "    ",
    "line": "class Stack:\n    def __init__(self):\n        self.items = []\n\n"
            "    def push(self, item):\n        self.items.",
}


def torch_completion(tiny, text: str, position: types.Position) -> str:
    """What torch greedy decoding gives through the server's own prompt and post-processing."""
    bundle = load_bundle(tiny.path)
    codec = TextCodec.load(bundle.file("tokenizer.json"), bundle.manifest.vocabulary)
    snapshot = make_snapshot("file:///x.py", 1, "python", text, position.line, position.character)
    context = classify(snapshot)
    settings = Settings()
    fim = bundle.manifest.vocabulary.fim
    prompt = build_prompt(context.prefix, context.suffix, budgets_of(settings, context.mode),
                          codec.count, fim.tokens() if fim else None)
    ids = codec.encode(prompt.text)
    texts = codec.token_texts().texts
    if not prompt.fim:  # token healing, as the server does it
        ids, forced = back_off(ids, texts.__getitem__, set(codec.special_ids))
    else:
        forced = ""
    eos = set(bundle.manifest.vocabulary.eos_ids) | set(bundle.manifest.vocabulary.stop_ids)

    def allowed(_batch, so_far):
        remaining = forced
        for token in so_far[len(ids):].tolist():
            text = texts[token]
            remaining = remaining[len(text):] if remaining.startswith(text) else ""
        if not remaining:
            return list(range(len(texts)))
        return [i for i, t in enumerate(texts)
                if t and "\ufffd" not in t and (t.startswith(remaining) or remaining.startswith(t))]

    with torch.no_grad():
        out = tiny.model.generate(torch.tensor([ids]), do_sample=False,
                                  max_new_tokens=max_tokens_for(context.mode, settings),
                                  pad_token_id=next(iter(eos)), eos_token_id=list(eos),
                                  prefix_allowed_tokens_fn=allowed)
    generated = [t for t in out[0, len(ids):].tolist() if t not in eos]
    text = codec.decode(generated)
    assert text.startswith(forced)
    return finish(text[len(forced):], context, policy_for(context)).text


async def test_server_reports_ready_with_provider(client):
    status = client.statuses[-1]
    assert field(status, "state") == "ready"
    assert field(status, "provider") == "CPUExecutionProvider"


@pytest.mark.parametrize("mode", sorted(DOCS))
async def test_inline_completion_equals_torch_greedy(client, tiny_qwen, mode):
    uri = f"file:///tmp/inline_{mode}.py"
    text = DOCS[mode]
    open_doc(client, uri, text)
    position = end_position(text)
    result = await client.text_document_inline_completion_async(types.InlineCompletionParams(
        text_document=types.TextDocumentIdentifier(uri), position=position,
        context=types.InlineCompletionContext(types.InlineCompletionTriggerKind.Invoked)))
    expected = torch_completion(tiny_qwen, text, position)
    assert expected, "the tiny model should complete its own corpus"
    assert [item.insert_text for item in result.items] == [expected]
    assert result.items[0].range.start == position
    assert isinstance(field(client.statuses[-1], "lastLatencyMs"), (int, float))


async def test_completion_item_equals_torch_greedy(client, tiny_qwen):
    uri = "file:///tmp/completion.py"
    text = DOCS["line"] + "app"
    open_doc(client, uri, text)
    position = end_position(text)
    result = await client.text_document_completion_async(types.CompletionParams(
        text_document=types.TextDocumentIdentifier(uri), position=position))
    expected = torch_completion(tiny_qwen, text, position)
    assert len(result.items) == 1
    edit = result.items[0].text_edit
    assert edit.new_text == "app" + expected
    assert edit.range.start.character == position.character - 3


async def test_bad_input_gets_empty_answers_and_the_server_keeps_working(client, tiny_qwen):
    uri = "file:///tmp/bad.py"
    open_doc(client, uri, DOCS["body"])
    far = types.Position(line=999, character=0)
    outside = await client.text_document_inline_completion_async(types.InlineCompletionParams(
        text_document=types.TextDocumentIdentifier(uri), position=far,
        context=types.InlineCompletionContext(types.InlineCompletionTriggerKind.Automatic)))
    assert list(outside.items) == []
    unopened = await client.text_document_completion_async(types.CompletionParams(
        text_document=types.TextDocumentIdentifier("file:///never/opened.py"),
        position=types.Position(0, 0)))
    assert list(unopened.items) == []
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"tenon": {"noSuchSetting": 1, "temperature": 0.0}}))
    position = end_position(DOCS["body"])
    again = await client.text_document_inline_completion_async(types.InlineCompletionParams(
        text_document=types.TextDocumentIdentifier(uri), position=position,
        context=types.InlineCompletionContext(types.InlineCompletionTriggerKind.Invoked)))
    assert [i.insert_text for i in again.items] == [
        torch_completion(tiny_qwen, DOCS["body"], position)]
    assert any("unknown setting `tenon.noSuchSetting`" in m.message for m in client.messages)


async def test_stats_request_counts_generations(client):
    stats = await client.protocol.send_request_async("tenon/stats", {})
    engine = field(stats, "engine")
    assert field(engine, "generations") >= 1
    assert field(engine, "maxStepsAfterCancel") <= 1


async def test_server_never_imports_the_training_stack(client):
    stats = await client.protocol.send_request_async("tenon/stats", {})
    assert field(field(stats, "engine"), "generations") >= 1  # it has served completions
    assert list(field(stats, "heavyModules")) == []
