"""The server as a subprocess spoken to byte by byte, so that framing is ours to break.

The client writes whatever bytes it is given, parses the server's output strictly (the
server must always frame its own messages correctly), answers the requests the server
sends (progress, applyEdit) as VS Code would, and keeps every response by id.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import subprocess
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from tests.support.lsp_client import DATA

VSCODE = json.loads((DATA / "vscode_initialize.json").read_text())


def frame(body: bytes) -> bytes:
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def encode(message: dict[str, Any]) -> bytes:
    return frame(json.dumps(message).encode("utf-8"))


def initialize_params(options: dict | None = None, encodings: list[str] | None = None) -> dict:
    params = json.loads(json.dumps(VSCODE))
    params.update(processId=os.getpid(), rootUri=None, initializationOptions=options or {})
    if encodings is not None:
        params["capabilities"]["general"]["positionEncodings"] = encodings
    return params


class ProtocolViolation(AssertionError):
    """The server wrote something to stdout that is not a well-framed JSON-RPC message."""


class RawServer:
    def __init__(self, command: list[str], env: dict[str, str], log_path: Path) -> None:
        self._log = log_path.open("wb")
        self.proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self._log, env=env)
        self.responses: dict[Any, dict[str, Any]] = {}
        self.null_id_errors: list[dict[str, Any]] = []
        self.notifications: list[dict[str, Any]] = []
        self.server_requests: list[dict[str, Any]] = []
        self.violations: list[str] = []
        self.arrival: dict[Any, int] = {}  # response id (or server request id) → order
        self.arrival_time: dict[Any, float] = {}  # response id → time.monotonic()
        self.answer_apply_edit = True
        self._ids = itertools.count(1)
        self._cond = threading.Condition()
        self._write_lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    # -- output ----------------------------------------------------------------------------
    def send_bytes(self, data: bytes) -> None:
        with self._write_lock:
            self.proc.stdin.write(data)
            self.proc.stdin.flush()

    def send(self, message: dict[str, Any]) -> None:
        self.send_bytes(encode(message))

    def next_id(self) -> int:
        return next(self._ids)

    def request(self, method: str, params: Any = None, msg_id: Any = None) -> Any:
        msg_id = self.next_id() if msg_id is None else msg_id
        message = {"jsonrpc": "2.0", "id": msg_id, "method": method}
        if params is not None:
            message["params"] = params
        self.send(message)
        return msg_id

    def notify(self, method: str, params: Any = None) -> None:
        message = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        self.send(message)

    def call(self, method: str, params: Any = None, timeout: float = 120) -> dict[str, Any]:
        msg_id = self.request(method, params)
        self.wait_for([msg_id], timeout)
        return self.responses[msg_id]

    def initialize(self, options: dict | None = None, encodings: list[str] | None = None,
                   process_id: int | None = None):
        params = initialize_params(options, encodings)
        if process_id is not None:
            params["processId"] = process_id
        result = self.call("initialize", params)
        self.notify("initialized", {})
        return result

    # -- input -----------------------------------------------------------------------------
    def _read(self) -> None:
        out = self.proc.stdout
        while True:
            headers: dict[str, str] = {}
            while True:
                line = out.readline()
                if not line:
                    return self._closed()
                if line == b"\r\n":
                    break
                if not line.endswith(b"\r\n") or b":" not in line:
                    self._violation(f"bad header line {line[:80]!r}")
                    return self._closed()
                name, _, value = line.decode("ascii", "replace").partition(":")
                headers[name.strip().lower()] = value.strip()
            try:
                length = int(headers["content-length"])
                body = out.read(length)
                message = json.loads(body)
            except (KeyError, ValueError) as exc:
                self._violation(f"bad frame from the server: {exc!r}")
                return self._closed()
            self._received(message)

    def _violation(self, text: str) -> None:
        with self._cond:
            self.violations.append(text)

    def _closed(self) -> None:
        with self._cond:
            self._cond.notify_all()

    def _received(self, message: dict[str, Any]) -> None:
        if "method" in message and "id" in message:  # answered off this thread: no deadlock
            threading.Thread(target=self._answer_server_request, args=(message,),
                             daemon=True).start()
        with self._cond:
            if "id" in message:
                self.arrival.setdefault(message["id"], len(self.arrival))
                self.arrival_time.setdefault(message["id"], time.monotonic())
            if "method" in message:
                (self.server_requests if "id" in message else self.notifications).append(message)
            elif message.get("id") is None:
                self.null_id_errors.append(message)
            else:
                if message["id"] in self.responses:
                    self.violations.append(f"two responses for id {message['id']!r}")
                self.responses[message["id"]] = message
            self._cond.notify_all()

    def _answer_server_request(self, message: dict[str, Any]) -> None:
        result: Any = None
        if message["method"] == "workspace/applyEdit":
            result = {"applied": self.answer_apply_edit}
        self.send({"jsonrpc": "2.0", "id": message["id"], "result": result})

    # -- waiting ---------------------------------------------------------------------------
    def wait_for(self, ids: Iterable[Any], timeout: float = 120) -> list[Any]:
        """Wait until every id is answered (or the server exits); return those still missing."""
        wanted = list(ids)
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                missing = [i for i in wanted if i not in self.responses]
                left = deadline - time.monotonic()
                if not missing or left <= 0 or self.proc.poll() is not None:
                    return missing
                self._cond.wait(min(left, 1.0))

    def wait_until(self, predicate, timeout: float = 120) -> bool:
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate():
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    return bool(predicate())
                self._cond.wait(min(left, 1.0))
        return True

    def statuses(self) -> list[dict[str, Any]]:
        with self._cond:
            return [n["params"] for n in self.notifications if n["method"] == "tenon/status"]

    def messages(self) -> list[str]:
        with self._cond:
            return [n["params"]["message"] for n in self.notifications
                    if n["method"] == "window/showMessage"]

    def wait_for_state(self, states: set[str], timeout: float = 120) -> dict[str, Any]:
        self.wait_until(lambda: self.statuses() and self.statuses()[-1]["state"] in states,
                        timeout)
        statuses = self.statuses()
        assert statuses and statuses[-1]["state"] in states, statuses
        return statuses[-1]

    # -- ending ----------------------------------------------------------------------------
    def shutdown(self, timeout: float = 60) -> int:
        """shutdown + exit; return the exit code."""
        self.call("shutdown", None, timeout)
        self.notify("exit")
        with contextlib.suppress(OSError):
            self.proc.stdin.close()
        return self.proc.wait(timeout)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self._log.close()

    def close(self) -> None:
        self.kill()
