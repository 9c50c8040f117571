"""What the server exposes: TCP on loopback unless --host says otherwise; no network use
and no telemetry at run time; generated code runs only in the sandbox; no document text in
the logs below trace level."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from tests.support.lsp_client import ROOT, server_command, server_env
from tests.support.raw_client import RawServer, encode, frame, initialize_params

MARKER = "tenon_probe_square"
STUB = (f'def {MARKER}(x):\n    """Return x squared.\n\n    >>> {MARKER}(3)\n    9\n    """\n'
        "    raise NotImplementedError\n")
SECRET = "TENON_SECRET_IN_THE_DOCUMENT"
LONG = f'# {SECRET}\ndef fibonacci(n):\n    """Return the n-th Fibonacci number."""\n    '


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def listening(pid: int, port: int) -> list[str]:
    """Addresses the process listens on at ``port`` (waits for it to bind)."""
    process = psutil.Process(pid)
    for _ in range(600):
        found = [c.laddr.ip for c in process.net_connections("tcp")
                 if c.status == psutil.CONN_LISTEN and c.laddr.port == port]
        if found or process.status() == psutil.STATUS_ZOMBIE:
            return found
        time.sleep(0.1)
    return []


def serve_tcp(tmp_path: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen(server_command(*args), env=server_env(tmp_path / "home"),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def stop(process: subprocess.Popen) -> str:
    if process.poll() is None:
        process.terminate()
    _, err = process.communicate(timeout=60)
    return err


def test_tcp_binds_loopback_by_default_and_answers(tmp_path):
    port = free_port()
    server = serve_tcp(tmp_path, "--tcp", str(port), "--device", "cpu")
    try:
        assert listening(server.pid, port) == ["127.0.0.1"]
        with socket.create_connection(("127.0.0.1", port), timeout=60) as conn:
            conn.sendall(encode({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                                 "params": initialize_params()}))
            reply = b""
            while b'"id": 1' not in reply and b'"id":1' not in reply:
                reply += conn.recv(65536)
        assert b"capabilities" in reply
    finally:
        stop(server)


def test_other_addresses_need_an_explicit_host(tmp_path):
    refused = subprocess.run(server_command("--tcp", f"0.0.0.0:{free_port()}"),
                             env=server_env(tmp_path / "home"), capture_output=True,
                             text=True, timeout=60, check=False)
    assert refused.returncode != 0
    assert "Pass --host 0.0.0.0 if you mean it" in refused.stderr
    port = free_port()
    server = serve_tcp(tmp_path, "--tcp", str(port), "--host", "0.0.0.0", "--device", "cpu")
    try:
        assert listening(server.pid, port) == ["0.0.0.0"]
    finally:
        err = stop(server)
    assert "anyone who can reach this address can use the server" in err


def audited(tiny, tmp_path: Path, record: Path, wrap: list[str]) -> RawServer:
    command = [*wrap, sys.executable, str(ROOT / "tests/support/audited_server.py"),
               str(record), MARKER, "--bundle", str(tiny.path), "--device", "cpu"]
    env = server_env(tmp_path / "home")
    env["HOME"] = str(tmp_path / "user")  # where ONNX Runtime would put its telemetry
    env.pop("ORT_DISABLE_TELEMETRY", None)
    return RawServer(command, env, tmp_path / "server.log")


def exercise(server: RawServer) -> dict:
    """Initialize, complete, generate a body checked by its doctest (sandbox), reload."""
    server.initialize()
    assert server.wait_for_state({"ready"})["state"] == "ready"
    for uri, text in (("file:///s/long.py", LONG), ("file:///s/stub.py", STUB)):
        server.notify("textDocument/didOpen", {"textDocument": {
            "uri": uri, "languageId": "python", "version": 1, "text": text}})
    lines = LONG.split("\n")
    completion = server.call("textDocument/inlineCompletion", {
        "textDocument": {"uri": "file:///s/long.py"},
        "position": {"line": len(lines) - 1, "character": len(lines[-1])},
        "context": {"triggerKind": 1}})["result"]["items"]
    here = {"line": 1, "character": 4}
    (action,) = server.call("textDocument/codeAction", {
        "textDocument": {"uri": "file:///s/stub.py"}, "range": {"start": here, "end": here},
        "context": {"diagnostics": []}})["result"]
    resolved = server.call("codeAction/resolve", action)["result"]
    reloaded = server.call("workspace/executeCommand", {"command": "tenon.reloadModel"})
    return {"completion": completion, "resolved": resolved, "reloaded": reloaded["result"]}


def records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def check_session(tiny, tmp_path: Path, wrap: list[str]) -> None:
    record = tmp_path / "audit.jsonl"
    server = audited(tiny, tmp_path, record, wrap)
    try:
        done = exercise(server)
        assert done["completion"] and done["reloaded"]["reloaded"] is True
        assert "/1 doctest examples pass" in done["resolved"]["title"]  # run in the sandbox
        assert server.shutdown() == 0
    finally:
        server.kill()
    found = records(record)
    assert [r for r in found if r["kind"] == "network"] == []
    assert [r for r in found if r["kind"] in ("executed", "imported")] == []
    spawned = [r["detail"] for r in found if r["kind"] == "spawned"]
    assert spawned and all("tenon-sandbox-" in s and "'-I'" in s for s in spawned), spawned
    assert not (tmp_path / "user" / ".cache" / "Microsoft").exists()  # no ORT telemetry


def test_no_network_and_generated_code_only_in_the_sandbox(tiny_qwen, tmp_path):
    check_session(tiny_qwen, tmp_path, [])


@pytest.mark.skipif(shutil.which("unshare") is None or os.geteuid() != 0,
                    reason="needs unshare(1) as root for a network namespace")
def test_works_with_no_network_at_all(tiny_qwen, tmp_path):
    """In a network namespace of its own: no interface but a loopback that is down."""
    check_session(tiny_qwen, tmp_path, ["unshare", "--net"])


def test_no_document_text_in_the_log_below_trace(tiny_qwen, tmp_path):
    log_file = tmp_path / "tenon.log"
    command = server_command("--bundle", str(tiny_qwen.path), "--device", "cpu",
                             "--log-level", "debug", "--log-file", str(log_file))
    server = RawServer(command, server_env(tmp_path / "home"), tmp_path / "stderr.log")
    try:
        exercise(server)
        hostile = [  # errors that carry the text: wrong types, bad positions, broken frames
            {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {
                "uri": "file:///s/bad.py", "languageId": "python", "version": SECRET,
                "text": SECRET}}},
            {"jsonrpc": "2.0", "id": "bad", "method": "textDocument/completion",
             "params": {"textDocument": {"uri": SECRET}, "position": {"line": SECRET}}},
            {"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
                "textDocument": {"uri": "file:///s/long.py", "version": 2},
                "contentChanges": [{"range": SECRET, "text": SECRET}]}},
        ]
        for message in hostile:
            server.send(message)
        server.send_bytes(frame(f'{{"text": "{SECRET}"'.encode()))
        server.call("tenon/stats", {})
        assert SECRET not in log_file.read_text()
        assert SECRET not in (tmp_path / "stderr.log").read_text()
        server.notify("workspace/didChangeConfiguration",
                      {"settings": {"tenon": {"logLevel": "trace"}}})
        server.call("tenon/stats", {})
        exercise_again = server.call("textDocument/inlineCompletion", {
            "textDocument": {"uri": "file:///s/long.py"},
            "position": {"line": 3, "character": 4}, "context": {"triggerKind": 1}})
        assert exercise_again["result"]["items"]
        assert "completion text:" in log_file.read_text()  # the user asked for trace
        assert server.shutdown() == 0
    finally:
        server.kill()
