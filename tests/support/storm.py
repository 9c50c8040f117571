"""Edit storms: rapid didChange events while completions and code actions are in flight.

How staleness is judged from outside: the server handles messages in order, so when the
answer to a barrier request (``tenon/stats``) sent after some changes arrives, the server
has applied those changes. Any completion, or code-action edit, whose request came before
those changes and whose answer arrives after that barrier's answer must therefore be
empty: it was computed for an older version. A non-empty completion that arrives earlier
must be the completion of the version it was asked for (known in advance: the document
is one of two texts whenever a completion is asked for on it).
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FIB = 'def fibonacci(n):\n    """Return the n-th Fibonacci number."""\n    '
PORT = "def read_port(path):\n    # read the config file and return the port as an int\n    "
ADD = 'def add(a, b):\n    """Return the sum of a and b."""\n    pass\n'


def end_position(text: str) -> dict[str, int]:
    """The end of ``text`` in UTF-16 code units (the encoding this client negotiates)."""
    lines = text.split("\n")
    return {"line": len(lines) - 1, "character": len(lines[-1].encode("utf-16-le")) // 2}


def inline_params(uri: str, text: str) -> dict[str, Any]:
    return {"textDocument": {"uri": uri}, "position": end_position(text),
            "context": {"triggerKind": 2}}


@dataclass
class Asked:
    msg_id: Any
    barrier: Any  # a request sent after changes that followed this one (None: no change)
    expected: str | None  # the completion of the version asked about (None: not checked)
    kind: str = "completion"
    version: int = 0
    changes_before: int = 0  # changes sent before this request


@dataclass
class Storm:
    server: Any
    rng: random.Random
    uri: str = "file:///storm/typing.py"
    version: int = 1
    text: str = FIB
    changes: int = 0
    asked: list[Asked] = field(default_factory=list)

    def change(self, new_text: str, ranged: bool = True) -> None:
        self.version += 1
        self.changes += 1
        if ranged and new_text.startswith(self.text):  # typing at the end
            change = {"range": {"start": end_position(self.text), "end": end_position(self.text)},
                      "text": new_text[len(self.text):]}
        elif ranged and self.text.startswith(new_text):  # deleting at the end
            change = {"range": {"start": end_position(new_text), "end": end_position(self.text)},
                      "text": ""}
        else:
            change = {"text": new_text}
        self.text = new_text
        self.server.notify("textDocument/didChange", {
            "textDocument": {"uri": self.uri, "version": self.version},
            "contentChanges": [change]})

    def ask(self, expected: dict[str, str]) -> Asked:
        msg_id = self.server.request("textDocument/inlineCompletion",
                                     inline_params(self.uri, self.text))
        asked = Asked(msg_id, None, expected.get(self.text), version=self.version,
                      changes_before=self.changes)
        self.asked.append(asked)
        return asked

    def burst(self, expected: dict[str, str], limit: int) -> None:
        """A request, then a few keystrokes typed and erased, then the other text."""
        pending = [self.ask(expected)]
        base = self.text
        time.sleep(self.rng.choice([0, 0, 0, 0.002, 0.01, 0.03]))  # sometimes it finishes
        for _ in range(self.rng.randint(2, 12)):
            if self.changes >= limit:
                break
            typed = self.text + self.rng.choice(["x", "y", " ", "(", "😀"])
            self.change(typed if self.rng.random() < 0.6 or self.text == base else base)
            if self.rng.random() < 0.2:
                pending.append(self.ask(expected))
        if self.changes < limit:
            self.change(PORT if base == FIB else FIB, ranged=self.rng.random() < 0.5)
        barrier = self.server.request("tenon/stats", {})
        for asked in pending:
            if self.changes > asked.changes_before:
                asked.barrier = barrier


def expected_completions(server: Any) -> dict[str, str]:
    found = {}
    for n, text in enumerate((FIB, PORT)):
        uri = f"file:///storm/reference{n}.py"
        server.notify("textDocument/didOpen", {"textDocument": {
            "uri": uri, "languageId": "python", "version": 1, "text": text}})
        items = server.call("textDocument/inlineCompletion",
                            inline_params(uri, text))["result"]["items"]
        assert items, f"the test model should complete {text!r}"
        found[text] = items[0]["insertText"]
    return found


def judge(server: Any, asked: list[Asked]) -> dict[str, int]:
    counts = {"requests": len(asked), "answered": 0, "nonEmpty": 0, "empty": 0,
              "staleReturned": 0, "wrongContent": 0, "contentChecked": 0}
    for a in asked:
        response = server.responses.get(a.msg_id)
        if response is None:
            continue
        counts["answered"] += 1
        result = response.get("result") or {}
        items = result.get("items", []) if isinstance(result, dict) else []
        edit = result.get("edit") if isinstance(result, dict) else None
        if not items and not edit:
            counts["empty"] += 1
            continue
        counts["nonEmpty"] += 1
        if a.barrier is not None and server.arrival[a.msg_id] > server.arrival[a.barrier]:
            counts["staleReturned"] += 1
        elif a.expected is not None and a.kind == "completion":
            counts["contentChecked"] += 1
            counts["wrongContent"] += items[0]["insertText"] != a.expected
    return counts


def code_action_races(server: Any, rng: random.Random, rounds: int) -> dict[str, int]:
    """Resolve (and the command fallback) while the document changes under it."""
    uri = "file:///storm/stub.py"
    version, text = 1, ADD
    server.notify("textDocument/didOpen", {"textDocument": {
        "uri": uri, "languageId": "python", "version": 1, "text": text}})
    asked: list[Asked] = []
    edits_checked = edits_for_newer = 0
    for n in range(rounds):
        here = {"line": 1, "character": 4}
        actions = server.call("textDocument/codeAction", {
            "textDocument": {"uri": uri}, "range": {"start": here, "end": here},
            "context": {"diagnostics": []}})["result"]
        before = len(server.server_requests)
        if n % 3 == 2:  # the command fallback: the server applies the edit itself
            msg_id = server.request("workspace/executeCommand", {
                "command": "tenon.generateFromDocstring", "arguments": [uri, here, version]})
            kind = "command"
        else:
            msg_id = server.request("codeAction/resolve", actions[0])
            kind = "resolve"
        asked_version, changed = version, rng.random() < 0.8
        if changed:  # change the document while the body is being written
            time.sleep(rng.choice([0, 0.005, 0.05]))
            version += 1
            text = text + "# edited\n"
            server.notify("textDocument/didChange", {
                "textDocument": {"uri": uri, "version": version},
                "contentChanges": [{"text": text}]})
        barrier = server.request("tenon/stats", {})
        asked.append(Asked(msg_id, barrier if changed else None, None, kind, asked_version))
        server.wait_for([msg_id, barrier])
        for request in server.server_requests[before:]:
            if request["method"] != "workspace/applyEdit":
                continue
            edits_checked += 1
            (change,) = request["params"]["edit"]["documentChanges"]
            late = changed and server.arrival[request["id"]] > server.arrival[barrier]
            edits_for_newer += late or change["textDocument"]["version"] != asked_version
        response = server.responses[msg_id]["result"]
        if kind == "resolve" and response.get("edit"):
            edits_checked += 1
            (change,) = response["edit"]["documentChanges"]
            edits_for_newer += change["textDocument"]["version"] != asked_version
    counts = judge(server, asked)
    counts.update(editsChecked=edits_checked, editsForNewerVersion=edits_for_newer)
    return counts


def storm_session(bundle: Path, home: Path, log_path: Path, changes: int = 1000,
                  seed: int = 1, action_rounds: int = 30) -> dict[str, Any]:
    import psutil

    from tests.support.lsp_client import server_command, server_env
    from tests.support.raw_client import RawServer

    command = server_command("--bundle", str(bundle), "--device", "cpu")
    server = RawServer(command, server_env(home), log_path)
    rng = random.Random(seed)
    try:
        server.initialize()
        server.wait_for_state({"ready"})
        process = psutil.Process(server.proc.pid)
        expected = expected_completions(server)
        storm = Storm(server, rng)
        server.notify("textDocument/didOpen", {"textDocument": {
            "uri": storm.uri, "languageId": "python", "version": 1, "text": storm.text}})
        rss_before = process.memory_info().rss
        started = time.monotonic()
        bursts = 0
        while storm.changes < changes:
            storm.burst(expected, changes)
            bursts += 1
            if bursts % 6 == 0:  # now and then, let one completion finish unchallenged
                server.wait_for([storm.ask(expected).msg_id])
        missing = server.wait_for([a.msg_id for a in storm.asked]
                                  + [a.barrier for a in storm.asked if a.barrier is not None])
        seconds = time.monotonic() - started
        rss_after = process.memory_info().rss
        completions = judge(server, storm.asked)
        actions = code_action_races(server, rng, action_rounds)
        stats = server.call("tenon/stats", {})["result"]
        rss_end = process.memory_info().rss
        exit_code = server.shutdown()
    finally:
        server.kill()
    log = log_path.read_text(encoding="utf-8", errors="replace")
    return {
        "didChangeSent": storm.changes, "bursts": bursts, "seconds": round(seconds, 1),
        "unanswered": len(missing), "completions": completions, "codeActions": actions,
        "staleCaughtWhenWritten": log.count("the document changed before the answer went out"),
        "rssMiB": {"beforeStorm": round(rss_before / 2**20), "afterStorm": round(rss_after / 2**20),
                   "afterCodeActions": round(rss_end / 2**20)},
        "runner": stats["runner"], "exitCode": exit_code,
    }
