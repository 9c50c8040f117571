"""Process faults, server side: killed mid-request, the server restarts clean; the client
gone mid-request (stdin closed, or its process dead while the pipe stays open), the server
stops on its own instead of living on as an orphan.

The kill lands mid-request for certain: the server asks the client to create a progress
bar when it starts writing a body from a docstring, and the test kills on that request.
"""

from __future__ import annotations

import subprocess
import sys

from tenon.bundle import load_bundle
from tests.support.lsp_client import server_command, server_env
from tests.support.raw_client import RawServer

ADD = 'def add(a, b):\n    """Return the sum of a and b."""\n    pass\n'
LONG = 'def fibonacci(n):\n    """Return the n-th Fibonacci number."""\n    '


def start(tiny, tmp_path, name: str) -> RawServer:
    lsp = RawServer(server_command("--bundle", str(tiny.path), "--device", "cpu"),
                    server_env(tmp_path / "home"), tmp_path / f"{name}.log")
    lsp.initialize()
    lsp.wait_for_state({"ready"})
    return lsp


def open_doc(server: RawServer, uri: str, text: str) -> None:
    server.notify("textDocument/didOpen", {"textDocument": {
        "uri": uri, "languageId": "python", "version": 1, "text": text}})


def inline(server: RawServer, uri: str, text: str) -> str:
    lines = text.split("\n")
    items = server.call("textDocument/inlineCompletion", {
        "textDocument": {"uri": uri}, "position": {"line": len(lines) - 1,
                                                   "character": len(lines[-1])},
        "context": {"triggerKind": 1}})["result"]["items"]
    return items[0]["insertText"] if items else ""


def resolve_in_flight(server: RawServer, uri: str) -> object:
    """Send a resolve and return once the server is working on it (progress created)."""
    open_doc(server, uri, ADD)
    here = {"line": 1, "character": 4}
    (action,) = server.call("textDocument/codeAction", {
        "textDocument": {"uri": uri}, "range": {"start": here, "end": here},
        "context": {"diagnostics": []}})["result"]
    msg_id = server.request("codeAction/resolve", action)
    assert server.wait_until(lambda: any(r["method"] == "window/workDoneProgress/create"
                                         for r in server.server_requests), 60)
    return msg_id


def test_killed_mid_request_then_restarted(tiny_qwen, tmp_path):
    first = start(tiny_qwen, tmp_path, "first")
    open_doc(first, "file:///k/reference.py", LONG)
    reference = inline(first, "file:///k/reference.py", LONG)
    msg_id = resolve_in_flight(first, "file:///k/add.py")
    first.proc.kill()  # SIGKILL while the request is being worked on
    assert first.proc.wait(60) == -9
    assert first.wait_for([msg_id], 5) == [msg_id]  # that answer is lost, as expected
    first.kill()
    load_bundle(tiny_qwen.path, check_hashes=True)  # nothing on disk was harmed
    second = start(tiny_qwen, tmp_path, "second")  # what the client does, after a back-off
    try:
        # a fresh server knows no documents: the client must open them again
        assert inline(second, "file:///k/reference.py", LONG) == ""
        open_doc(second, "file:///k/reference.py", LONG)
        assert inline(second, "file:///k/reference.py", LONG) == reference
        open_doc(second, "file:///k/add.py", ADD)
        here = {"line": 1, "character": 4}
        (action,) = second.call("textDocument/codeAction", {
            "textDocument": {"uri": "file:///k/add.py"}, "range": {"start": here, "end": here},
            "context": {"diagnostics": []}})["result"]
        assert second.call("codeAction/resolve", action)["result"]["edit"]
        assert second.shutdown() == 0
    finally:
        second.kill()


def test_client_gone_mid_request_stops_the_server(tiny_qwen, tmp_path):
    server = start(tiny_qwen, tmp_path, "server")
    resolve_in_flight(server, "file:///k/add.py")
    server.proc.stdin.close()  # the editor went away without shutdown/exit
    assert server.proc.wait(60) == 0  # no orphan left behind
    server.kill()


def test_client_process_gone_with_the_pipe_still_open(tiny_qwen, tmp_path):
    """The editor died but its pipe lives on (held here): the server polls processId."""
    editor = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    server = RawServer(server_command("--bundle", str(tiny_qwen.path), "--device", "cpu"),
                       server_env(tmp_path / "home"), tmp_path / "server.log")
    try:
        server.initialize(process_id=editor.pid)  # answered: the server is watching it
        editor.kill()
        editor.wait()
        assert server.proc.wait(60) == 0  # stdin is still open: it noticed the editor was gone
        assert "the client process" in (tmp_path / "server.log").read_text()
    finally:
        if editor.poll() is None:
            editor.kill()
            editor.wait()
        server.kill()
