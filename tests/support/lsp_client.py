"""A real LSP client over stdio (pytest-lsp) that introduces itself as VS Code 1.139.1."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient
from pytest_lsp.client import make_test_lsp_client

DATA = Path(__file__).resolve().parent.parent / "data"
ROOT = Path(__file__).resolve().parents[2]


def make_client() -> LanguageClient:
    client = make_test_lsp_client()
    client.statuses = []  # type: ignore[attr-defined]
    client.applied_edits = []  # type: ignore[attr-defined]
    converter = client.protocol._converter

    def structure_action(obj: Any, _type: Any):
        # lsprotocol (client side) reads a CodeAction carrying a command as a Command
        if isinstance(obj.get("command"), str):
            return converter.structure(obj, types.Command)
        return converter.structure(obj, types.CodeAction)

    converter.register_structure_hook(types.Command | types.CodeAction, structure_action)

    @client.feature("tenon/status")
    def on_status(params: Any) -> None:
        client.statuses.append(params)  # type: ignore[attr-defined]

    @client.feature(types.WORKSPACE_APPLY_EDIT)
    def on_apply_edit(params: types.ApplyWorkspaceEditParams):
        client.applied_edits.append(params)  # type: ignore[attr-defined]
        return types.ApplyWorkspaceEditResult(applied=True)

    return client


def vscode_initialize(client: LanguageClient, options: dict | None = None):
    raw = json.loads((DATA / "vscode_initialize.json").read_text())
    params = client.protocol._converter.structure(
        {"processId": os.getpid(), "rootUri": None, **raw}, types.InitializeParams
    )
    params.initialization_options = options or {}
    return params


def server_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "tenon", "serve", *args]


def server_env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["TENON_HOME"] = str(home)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "server"), env.get("PYTHONPATH", "")])
    return env


async def start(command: list[str], env: dict[str, str], options: dict | None = None):
    client = await ClientServerConfig(server_command=command, client_factory=make_client,
                                      server_env=env).start()
    await client.initialize_session(vscode_initialize(client, options))
    return client


def field(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)


async def wait_for_state(client: LanguageClient, states: set[str], timeout: float = 120) -> Any:
    """Wait until the server's last status has one of ``states``; return it."""
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        statuses = client.statuses  # type: ignore[attr-defined]
        if statuses and field(statuses[-1], "state") in states:
            return statuses[-1]
        await asyncio.sleep(0.05)
    raise TimeoutError(f"server never reached {states}: {client.statuses}")  # type: ignore


def open_doc(client: LanguageClient, uri: str, text: str, version: int = 1) -> None:
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        types.TextDocumentItem(uri=uri, language_id="python", version=version, text=text)))


def end_position(text: str) -> types.Position:
    lines = text.split("\n")
    return types.Position(len(lines) - 1, len(lines[-1].encode("utf-16-le")) // 2)
