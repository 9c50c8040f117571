"""Positions in the client's negotiated encoding everywhere: UTF-16 (VS Code), UTF-8 and
UTF-32 clients, with multi-byte characters before the cursor and inside the edited range.

The expected offsets come from this file's own converter (encode the line, count code
units), not from the server's code.
"""

from __future__ import annotations

import re

import pytest

from tests.support.lsp_client import server_command, server_env
from tests.support.raw_client import RawServer

UNIT = {"utf-8": 1, "utf-16": 2, "utf-32": 4}
CODEC = {"utf-8": "utf-8", "utf-16": "utf-16-le", "utf-32": "utf-32-le"}
STACK = ('class Stack:\n    def __init__(self):\n        self.items = []\n\n'
         '    def push(self, item):\n        é = "😀"; self.items.app')
ADD = ('def add(a, b):\r\n    """Return the sum of a and b (é😀)."""\r\n'
       '    raise NotImplementedError("😀 é 计算")\r\n# 😀 after\r\n')


def lsp_lines(text: str) -> list[str]:
    return re.split(r"\r\n|\r|\n", text)


def width(text: str, encoding: str) -> int:
    return len(text.encode(CODEC[encoding], "surrogatepass")) // UNIT[encoding]


def offset_of(text: str, position: dict, encoding: str) -> int:
    """Reference conversion: LSP position in ``encoding`` → index into ``text``."""
    starts = [0] + [m.end() for m in re.finditer(r"\r\n|\r|\n", text)]
    line = lsp_lines(text)[position["line"]]
    data = line.encode(CODEC[encoding], "surrogatepass")[: position["character"] * UNIT[encoding]]
    return starts[position["line"]] + len(data.decode(CODEC[encoding], "surrogatepass"))


def end_of(text: str, encoding: str) -> dict:
    lines = lsp_lines(text)
    return {"line": len(lines) - 1, "character": width(lines[-1], encoding)}


def apply(text: str, edit: dict, encoding: str) -> str:
    start = offset_of(text, edit["range"]["start"], encoding)
    end = offset_of(text, edit["range"]["end"], encoding)
    return text[:start] + edit["newText"] + text[end:]


@pytest.fixture(scope="module", params=["utf-16", "utf-8", "utf-32"])
def server(request, tiny_qwen, tmp_path_factory):
    encoding = request.param
    folder = tmp_path_factory.mktemp(f"enc-{encoding}")
    command = server_command("--bundle", str(tiny_qwen.path), "--device", "cpu")
    lsp = RawServer(command, server_env(folder), folder / "server.log")
    result = lsp.initialize(encodings=[encoding, "utf-16"])
    assert result["result"]["capabilities"]["positionEncoding"] == encoding
    lsp.wait_for_state({"ready"})
    lsp.encoding = encoding  # type: ignore[attr-defined]
    yield lsp
    lsp.shutdown()
    lsp.kill()


def open_doc(server, uri: str, text: str) -> None:
    server.notify("textDocument/didOpen", {"textDocument": {
        "uri": uri, "languageId": "python", "version": 1, "text": text}})


def complete(server, method: str, uri: str, position: dict) -> list[dict]:
    params = {"textDocument": {"uri": uri}, "position": position}
    if method == "textDocument/inlineCompletion":
        params["context"] = {"triggerKind": 1}
    result = server.call(method, params)["result"]
    return result["items"]


def test_completion_edit_replaces_the_word_before_the_cursor(server):
    uri = "file:///enc/stack.py"
    open_doc(server, uri, STACK)
    cursor = end_of(STACK, server.encoding)
    (item,) = complete(server, "textDocument/completion", uri, cursor)
    edit = item["textEdit"]
    assert edit["range"]["end"] == cursor
    assert edit["range"]["start"] == {"line": cursor["line"],
                                      "character": cursor["character"] - len("app")}
    assert apply(STACK, edit, server.encoding).startswith(STACK[: -len("app")] + "append")


def test_past_the_end_of_the_line_is_answered_at_the_end(server):
    uri = "file:///enc/stack-far.py"
    open_doc(server, uri, STACK)
    cursor = end_of(STACK, server.encoding)
    far = {"line": cursor["line"], "character": cursor["character"] + 50}
    (item,) = complete(server, "textDocument/completion", uri, far)
    assert item["textEdit"]["range"]["end"] == cursor
    (inline,) = complete(server, "textDocument/inlineCompletion", uri, far)
    assert inline["range"] == {"start": cursor, "end": cursor}


def test_inside_a_character_is_rounded_down_to_its_start(server):
    uri = "file:///enc/split.py"
    text = 'x = "😀'
    open_doc(server, uri, text)
    inside = {"line": 0, "character": width('x = "', server.encoding) + 1}
    items = complete(server, "textDocument/inlineCompletion", uri, inside)
    start = {"line": 0, "character": width('x = "', server.encoding)}
    assert all(item["range"] == {"start": start, "end": start} for item in items)


def actions_at(server, uri: str, line: int) -> list[dict]:
    here = {"line": line, "character": 4}
    return server.call("textDocument/codeAction", {
        "textDocument": {"uri": uri}, "range": {"start": here, "end": here},
        "context": {"diagnostics": []}})["result"]


def check_stub_replaced(text: str, edit: dict, encoding: str) -> None:
    head = text[: text.index('é😀)."""') + len('é😀)."""')]
    tail = text[text.index('计算")') + len('计算")'):]
    assert apply(text, edit, encoding) == head + edit["newText"] + tail
    assert edit["newText"].startswith("\n    return a")


def test_code_action_edit_is_in_the_negotiated_encoding(server):
    uri = "file:///enc/add.py"
    open_doc(server, uri, ADD)
    (action,) = actions_at(server, uri, 1)
    resolved = server.call("codeAction/resolve", action)["result"]
    (change,) = resolved["edit"]["documentChanges"]
    (edit,) = change["edits"]
    assert change["textDocument"] == {"uri": uri, "version": 1}
    check_stub_replaced(ADD, edit, server.encoding)


def test_command_fallback_edit_is_in_the_negotiated_encoding(server):
    uri = "file:///enc/add-command.py"
    open_doc(server, uri, ADD)
    before = len(server.server_requests)
    result = server.call("workspace/executeCommand", {
        "command": "tenon.generateFromDocstring",
        "arguments": [uri, {"line": 1, "character": 4}, 1]})["result"]
    assert result["applied"] is True
    (request,) = [r for r in server.server_requests[before:]
                  if r["method"] == "workspace/applyEdit"]
    (change,) = request["params"]["edit"]["documentChanges"]
    check_stub_replaced(ADD, change["edits"][0], server.encoding)
