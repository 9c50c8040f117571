"""The shared real-client session: the server on the tiny model, one per test module."""

import pytest_asyncio

from tests.support.lsp_client import server_command, server_env, start, wait_for_state


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def client(tiny_qwen, tiny_home):
    command = server_command("--bundle", str(tiny_qwen.path), "--device", "cpu")
    lsp = await start(command, server_env(tiny_home))
    await wait_for_state(lsp, {"ready", "error"})
    yield lsp
    await lsp.shutdown_session()
