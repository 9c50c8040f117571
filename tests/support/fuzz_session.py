"""Driving a real server with the fuzzer (:mod:`tests.support.fuzz`): send, wait for the
answers, count, and check the server still completes correctly afterwards."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from tests.support.fuzz import SECRET, Fuzzer


def drive(server: Any, fuzzer: Fuzzer, count: int, timeout: float = 180) -> dict[str, Any]:
    """Send ``count`` steps in random batches, waiting for each batch's answers."""
    kinds: dict[str, int] = {}
    unanswered: list[Any] = []
    expected = 0
    batch: list[Any] = []
    size = fuzzer.rng.randint(1, 40)
    for step in fuzzer.steps(count):
        if server.proc.poll() is not None:
            break
        try:
            server.send_bytes(step.data)
        except (BrokenPipeError, OSError):
            break
        kinds[step.kind] = kinds.get(step.kind, 0) + 1
        batch += step.expect
        expected += len(step.expect)
        if len(batch) >= size or step.kind == "bigDocument":
            unanswered += server.wait_for(batch, timeout)
            batch, size = [], fuzzer.rng.randint(1, 40)
    unanswered += server.wait_for(batch, timeout)
    codes: dict[str, int] = {}
    for response in list(server.responses.values()) + server.null_id_errors:
        if "error" in response:
            key = str(response["error"].get("code"))
            codes[key] = codes.get(key, 0) + 1
    return {
        "messagesTried": sum(kinds.values()),
        "byKind": dict(sorted(kinds.items())),
        "requestsExpectingAnswer": expected,
        "requestsWithoutAnswer": len(unanswered),
        "unansweredIds": unanswered[:20],
        "errorResponsesByCode": dict(sorted(codes.items())),
        "internalErrors": codes.get("-32603", 0),
        "nullIdErrors": len(server.null_id_errors),
        "serverAlive": server.proc.poll() is None,
        "protocolViolations": list(server.violations),
    }


REFERENCE_DOC = 'def fibonacci(n):\n    """Return the n-th Fibonacci number."""\n    '


def reference_completion(server: Any, uri: str) -> str:
    """Open the reference document and complete at its end (the tiny model knows it)."""
    server.notify("textDocument/didOpen", {"textDocument": {
        "uri": uri, "languageId": "python", "version": 1, "text": REFERENCE_DOC}})
    lines = REFERENCE_DOC.split("\n")
    response = server.call("textDocument/inlineCompletion", {
        "textDocument": {"uri": uri}, "position": {"line": len(lines) - 1,
                                                   "character": len(lines[-1])},
        "context": {"triggerKind": 1}})
    items = response.get("result", {}).get("items", [])
    return items[0]["insertText"] if items else ""


def fuzz_session(bundle: Path, home: Path, log_path: Path, seed: int, count: int,
                 encodings: list[str] | None = None, big_every: int = 2000) -> dict[str, Any]:
    """Start the real server, fuzz it, check it still completes correctly, shut it down."""
    import psutil

    from tenon.settings import Settings, to_client
    from tests.support.lsp_client import server_command, server_env
    from tests.support.raw_client import RawServer

    command = server_command("--bundle", str(bundle), "--device", "cpu")
    server = RawServer(command, server_env(home), log_path)
    try:
        init = server.initialize(encodings=encodings)
        server.wait_for_state({"ready", "error"})
        process = psutil.Process(server.proc.pid)
        before = reference_completion(server, "file:///check/before.py")
        rss_before = process.memory_info().rss
        started = time.monotonic()
        figures = drive(server, Fuzzer(seed, big_every), count)
        figures["seconds"] = round(time.monotonic() - started, 1)
        figures["rssMiB"] = {"before": round(rss_before / 2**20),
                             "after": round(process.memory_info().rss / 2**20)}
        defaults = to_client(Settings(bundle_path=str(bundle), device="cpu"))
        server.notify("workspace/didChangeConfiguration", {"settings": {"tenon": defaults}})
        reloaded = server.call("workspace/executeCommand", {"command": "tenon.reloadModel"})
        after = reference_completion(server, "file:///check/after.py")
        figures.update(
            seed=seed,
            negotiatedEncoding=init["result"]["capabilities"].get("positionEncoding"),
            reloadAfterwards=reloaded.get("result", {}).get("reloaded"),
            completionBefore=before, completionAfter=after,
            stillCompletesCorrectly=bool(before) and before == after,
            runner=server.call("tenon/stats", {})["result"]["runner"],
        )
        figures["exitCode"] = server.shutdown()
        figures["crashes"] = 0 if figures["exitCode"] == 0 and figures["serverAlive"] else 1
    finally:
        server.kill()
    log = log_path.read_text(encoding="utf-8", errors="replace")
    figures["documentTextInLog"] = log.count(SECRET)
    figures["unexpectedErrorsInLog"] = log.count("unexpected error")
    return figures
