"""Model faults through the real server: one clear message, a status that says what
happened, a server that keeps answering, and a working model that keeps serving.

The faults are real (tests/support/faults.py): files truncated, corrupted or replaced, a
manifest from a newer Tenon, another model's tokenizer, CUDA asked for where ONNX Runtime
has none, and graphs that make ONNX Runtime fail in the middle of generation (an index
out of bounds, or a 128 TiB allocation).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tenon.completion import complete
from tenon.context.snapshot import make_snapshot
from tenon.inference.engine import CancelToken
from tenon.model import load_model
from tenon.settings import Settings
from tests.support import faults
from tests.support.lsp_client import server_command, server_env
from tests.support.raw_client import RawServer

SHORT = "def is_even(n):\n    return n % 2 == "
LONG = 'def fibonacci(n):\n    """Return the n-th Fibonacci number."""\n    '


def end(text: str) -> dict[str, int]:
    lines = text.split("\n")
    return {"line": len(lines) - 1, "character": len(lines[-1])}


def measured(bundle: Path, text: str) -> tuple[int, int, str]:
    """Prompt tokens, tokens generated and the text, through the server's own pipeline."""
    model = load_model(Settings(bundle_path=str(bundle), device="cpu"))
    snapshot = make_snapshot("file:///m.py", 1, "python", text, end(text)["line"],
                             end(text)["character"])
    done = complete(snapshot, Settings(), model, CancelToken())
    return done.result.prompt_tokens, len(done.result.token_ids), done.text


@pytest.fixture(scope="module")
def broken(tiny_qwen, tmp_path_factory) -> dict[str, Path]:
    good, root = tiny_qwen.path, tmp_path_factory.mktemp("broken")
    short_prompt, short_out, _ = measured(good, SHORT)
    long_prompt, long_out, _ = measured(good, LONG)
    limit = long_prompt + 6  # the long completion fails at its 7th token, the short never
    assert short_prompt + short_out + 1 < limit < long_prompt + long_out
    return {
        "truncated": faults.truncated(good, root / "truncated"),
        "truncated graph": faults.truncated(good, root / "truncated-graph", refresh=True),
        "checksum": faults.corrupted(good, root / "checksum"),
        "future": faults.from_the_future(good, root / "future"),
        "tokenizer": faults.wrong_tokenizer(good, root / "tokenizer"),
        "runtime": faults.failing_at(good, root / "runtime", limit),
        "memory": faults.failing_at(good, root / "memory", limit, out_of_memory=True),
    }


EXPECTED = {  # what the user is told (and the status says) for each fault
    "missing": "no model bundle at",
    "truncated": "the manifest says",  # "... has N bytes, the manifest says M (truncated)"
    "truncated graph": "ONNX Runtime cannot load decoder.int8.onnx",
    "checksum": "does not match its sha256 checksum",
    "future": "schema version 99; this Tenon reads version 1. Upgrade Tenon",
    "tokenizer": "tokenizer mismatch",
    "cuda": "CUDA was requested but this onnxruntime has no CUDA execution provider",
}


@pytest.fixture
def server(tiny_qwen, tmp_path):
    lsp = RawServer(server_command("--bundle", str(tiny_qwen.path), "--device", "cpu"),
                    server_env(tmp_path / "home"), tmp_path / "server.log")
    lsp.initialize()
    lsp.wait_for_state({"ready"})
    yield lsp
    lsp.kill()


def inline(server: RawServer, uri: str, text: str) -> str:
    server.notify("textDocument/didOpen", {"textDocument": {
        "uri": uri, "languageId": "python", "version": 1, "text": text}})
    result = server.call("textDocument/inlineCompletion", {
        "textDocument": {"uri": uri}, "position": end(text), "context": {"triggerKind": 1}})
    items = result["result"]["items"]
    return items[0]["insertText"] if items else ""


def configure(server: RawServer, **settings) -> int:
    seen = len(server.statuses())
    server.notify("workspace/didChangeConfiguration", {"settings": {"tenon": settings}})
    return seen


def status_after(server: RawServer, seen: int, words: str) -> dict:
    def found():
        return [s for s in server.statuses()[seen:] if words in s["message"]]

    assert server.wait_until(lambda: bool(found()), 120), server.statuses()[seen:]
    return found()[-1]


def shown(server: RawServer, words: str) -> list[str]:
    return [m for m in server.messages() if words in m]


def test_broken_bundles_leave_the_working_model_serving(server, broken, tiny_qwen, tmp_path):
    reference = inline(server, "file:///f/before.py", LONG)
    assert reference
    cases = {**{k: {"bundlePath": str(broken[k])} for k in
                ("truncated", "truncated graph", "checksum", "future", "tokenizer")},
             "missing": {"bundlePath": str(tmp_path / "no-such-bundle")},
             "cuda": {"bundlePath": str(tiny_qwen.path), "device": "cuda"}}
    for name, settings in cases.items():
        seen = configure(server, **settings)
        status = status_after(server, seen, EXPECTED[name])
        assert status["state"] == "ready", (name, status)  # still serving the previous one
        assert status["message"].startswith("model not loaded: ")
        assert status["message"].endswith("The previous model keeps serving."), name
        assert status["model"]["name"] == "tiny-qwen2"
        assert len(shown(server, EXPECTED[name])) == 1, (name, server.messages())
        assert inline(server, f"file:///f/{name}.py", LONG) == reference, name
        configure(server, device="cpu")
    stats = server.call("tenon/stats", {})["result"]
    assert stats["heavyModules"] == []


@pytest.mark.parametrize("name", ["missing", "checksum", "tokenizer"])
def test_a_server_without_a_model_keeps_answering(tiny_qwen, broken, tmp_path, name):
    bundle = tmp_path / "nothing" if name == "missing" else broken[name]
    lsp = RawServer(server_command("--bundle", str(bundle), "--device", "cpu"),
                    server_env(tmp_path / "home"), tmp_path / "server.log")
    try:
        lsp.initialize()
        status = lsp.wait_for_state({"error"})
        assert EXPECTED[name] in status["message"]
        assert len(shown(lsp, EXPECTED[name])) == 1
        assert inline(lsp, "file:///f/none.py", LONG) == ""  # answered, with nothing
        assert "runner" in lsp.call("tenon/stats", {})["result"]
        seen = configure(lsp, bundlePath=str(tiny_qwen.path))  # fixed: serves at once
        assert status_after(lsp, seen, "tiny-qwen2 on CPU")["state"] == "ready"
        assert inline(lsp, "file:///f/fixed.py", LONG)
        assert lsp.shutdown() == 0
    finally:
        lsp.kill()


@pytest.mark.parametrize(("name", "words"), [
    ("runtime", "ONNX Runtime failed during generation: indices element out of data bounds"),
    ("memory", "out of memory: the model could not get the memory it needs"),
])
def test_failure_in_the_middle_of_generation(server, broken, name, words):
    seen = configure(server, bundlePath=str(broken[name]))
    status_after(server, seen, "tiny-qwen2 on CPU")  # this bundle loads
    good_short = inline(server, "file:///f/short.py", SHORT)
    assert good_short
    for attempt in range(3):  # fails every time; the user is told once
        assert inline(server, f"file:///f/long{attempt}.py", LONG) == ""
    assert len(shown(server, words)) == 1, server.messages()
    status = server.statuses()[-1]
    assert status["state"] == "ready" and words in status["message"], status
    assert inline(server, "file:///f/short2.py", SHORT) == good_short  # keeps answering
    assert server.statuses()[-1]["message"] == "tiny-qwen2 on CPU (asked for)"  # recovered
    engine = server.call("tenon/stats", {})["result"]["engine"]
    assert engine["errors"] == 3
