"""A running server picks up a newly published bundle, and survives a broken one."""

from __future__ import annotations

import shutil

import pytest_asyncio
from lsprotocol import types

from tenon.paths import TenonHome
from tenon_train.publish import switch_current
from tests.support.lsp_client import field, server_command, server_env, start, wait_for_state


def model_path(status) -> str:
    return field(field(status, "model"), "path")


async def wait_for_model(client, path, timeout=60):
    import asyncio

    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if client.statuses and model_path(client.statuses[-1]) == str(path):
            return client.statuses[-1]
        await asyncio.sleep(0.1)
    raise TimeoutError(f"never served {path}: {client.statuses[-3:]}")


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def setup(tiny_qwen, tmp_path_factory):
    home = TenonHome(tmp_path_factory.mktemp("reload_home"))
    first = home.models / "v1"
    shutil.copytree(tiny_qwen.path, first)
    switch_current(home, first)
    lsp = await start(server_command("--device", "cpu"), server_env(home.root))
    await wait_for_state(lsp, {"ready"})
    yield lsp, home
    await lsp.shutdown_session()


async def test_publishing_switches_the_served_model(setup, tiny_qwen):
    client, home = setup
    assert model_path(client.statuses[-1]) == str((home.models / "v1").resolve())
    second = home.models / "v2"
    shutil.copytree(tiny_qwen.path, second)
    switch_current(home, second)
    await wait_for_model(client, second.resolve())


async def test_broken_bundle_keeps_the_previous_model_serving(setup, tiny_qwen):
    client, home = setup
    good = (home.models / "v2").resolve()
    broken = home.models / "v3"
    shutil.copytree(tiny_qwen.path, broken)
    switch_current(home, broken)  # valid when published…
    await wait_for_model(client, broken.resolve())
    switch_current(home, good)
    await wait_for_model(client, good)
    data = broken / "decoder.int8.onnx"  # …then corrupted and made current again
    data.write_bytes(data.read_bytes()[:100])
    (home.models / "current").unlink()
    (home.models / "current").symlink_to("v3")
    import asyncio

    for _ in range(100):
        if any("model not loaded" in m.message for m in client.messages):
            break
        await asyncio.sleep(0.1)
    assert any("previous model keeps serving" in m.message for m in client.messages)
    assert model_path(client.statuses[-1]) == str(good)
    uri = "file:///tmp/after_reload.py"
    client.text_document_did_open(types.DidOpenTextDocumentParams(types.TextDocumentItem(
        uri=uri, language_id="python", version=1, text="def add(a, b):\n    ")))
    result = await client.text_document_inline_completion_async(types.InlineCompletionParams(
        text_document=types.TextDocumentIdentifier(uri), position=types.Position(1, 4),
        context=types.InlineCompletionContext(types.InlineCompletionTriggerKind.Invoked)))
    assert result.items and result.items[0].insert_text
