"""A seeded generator of hostile LSP input, for the protocol fuzz test and bench.

Each :class:`Step` is the bytes of one message (or one broken frame), what kind it is, and
the ids of the requests in it that the server must answer. The mix: documents full of
surrogate pairs, combining characters, lone surrogates and every kind of line break
(CRLF, CR, and the ones LSP does not count: form feed, U+2028, NEL); edits with ranges
inside, across and outside the text; requests at positions outside the document or inside
a surrogate pair; wrong types anywhere in the params; unknown methods; and broken framing:
lengths that lie in both directions, garbage header lines, bodies that are not JSON or not
objects, invalid UTF-8, deep nesting. Now and then a 10 MB document is opened, edited,
completed in and closed.

The fuzzer keeps its own approximate copy of each document (UTF-16 positions) to aim
positions at real characters; exactness does not matter, the server must cope with any.
"""

from __future__ import annotations

import itertools
import json
import random
from dataclasses import dataclass, field
from typing import Any, ClassVar

from tests.support.raw_client import encode, frame

SECRET = "TENON_SECRET_DOCUMENT_TEXT"  # in every document: must never reach the log
BIG_BYTES = 10 * 1024 * 1024

PIECES = [
    "def f(x):\n", "    return x\n", '    """Doc."""\n', "# comment\n", "\t", "    ", "pass",
    "😀", "𝔘𝔫𝔦", "🐍", "e\u0301", "a\u0308\u0323", "👩\u200d💻", "计算斐波那契", "\u00e9",
    "\r\n", "\r", "\n", "\n\n", "\u2028", "\x0c", "\x85", "\x0b", "\ufeff", "\x00",
    "\ud800", "\udfff", "'''", '"""', "(", ")", "[", "{", "\\", "x = 1", " ", "\u200b",
    'def add(a, b):\n    """Return the sum of a and b."""\n    pass\n',
    'def square(x):\n    """Return x squared.\n\n    >>> square(3)\n    9\n    """\n',
]
STUB = 'def add(a, b):\n    """Return the sum of a and b."""\n    pass\n'
WEIRD = [None, True, False, 0, -1, 1.5, 2**31, 2**53 + 1, -(2**63), "", "x", "0", [], {},
         [1, "a"], {"a": 1}, {"line": "1"}, "\ud800", "A" * 1000, 1e308]
METHODS = ["textDocument/inlineCompletion", "textDocument/completion",
           "textDocument/codeAction", "codeAction/resolve", "workspace/executeCommand",
           "tenon/stats"]
NOTIFICATIONS = ["textDocument/didOpen", "textDocument/didChange", "textDocument/didClose",
                 "workspace/didChangeConfiguration", "$/cancelRequest", "$/setTrace"]


@dataclass
class Step:
    kind: str
    data: bytes
    expect: list[Any] = field(default_factory=list)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def lines_of(text: str) -> list[str]:
    """LSP lines (breaks at CRLF, CR, LF only)."""
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def big_text(rng: random.Random) -> str:
    block = "".join(rng.choice(PIECES) for _ in range(400)) + f"\n# {SECRET}\n"
    return (block * (BIG_BYTES // len(block.encode("utf-8", "surrogatepass")) + 1))[:BIG_BYTES]


def _body_of(data: bytes) -> bytes:
    return data.split(b"\r\n\r\n", 1)[1]


class Fuzzer:
    def __init__(self, seed: int, big_every: int = 2000) -> None:
        self.rng = random.Random(seed)
        self.docs: dict[str, tuple[int, str]] = {}
        self._ids = itertools.count(10_000)
        self.big_every = big_every
        self.count = 0
        self.pending_big: list[Step] = []
        self._big: str | None = None

    # -- building blocks -------------------------------------------------------------------
    def text(self, size: int | None = None) -> str:
        size = self.rng.randint(0, 60) if size is None else size
        body = "".join(self.rng.choice(PIECES) for _ in range(size))
        return f"# {SECRET}\n" + body

    def uri(self, fresh: bool = False) -> str:
        if self.docs and not fresh and self.rng.random() < 0.85:
            return self.rng.choice(sorted(self.docs))
        return f"file:///fuzz/doc{self.rng.randint(0, 12)}.py"

    def new_id(self) -> Any:
        n = next(self._ids)
        return n if self.rng.random() < 0.7 else f"fz-{n}"

    def position(self, uri: str) -> dict[str, Any]:
        text = self.docs.get(uri, (0, ""))[1]
        lines = lines_of(text)
        roll = self.rng.random()
        line = self.rng.randrange(len(lines))
        width = utf16_len(lines[line])
        if roll < 0.55:
            return {"line": line, "character": self.rng.randint(0, width)}
        if roll < 0.65:  # inside a surrogate pair, if the line has one
            units = 0
            for ch in lines[line]:
                if ord(ch) > 0xFFFF:
                    return {"line": line, "character": units + 1}
                units += utf16_len(ch)
            return {"line": line, "character": width}
        if roll < 0.75:
            return {"line": line, "character": width + self.rng.randint(1, 10_000)}
        if roll < 0.85:
            return {"line": len(lines) + self.rng.randint(0, 10_000), "character": 0}
        if roll < 0.92:
            return {"line": self.rng.choice([-1, -(2**31)]), "character": self.rng.randint(-5, 5)}
        return {"line": 2**31 - 1, "character": 2**31 - 1}

    def range_(self, uri: str) -> dict[str, Any]:
        a, b = self.position(uri), self.position(uri)
        return {"start": a, "end": b}

    def message(self, method: str, params: Any, msg_id: Any = None) -> dict[str, Any]:
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "params": params}
        if msg_id is not None:
            message["id"] = msg_id
        return message

    def request_step(self, kind: str, method: str, params: Any) -> Step:
        msg_id = self.new_id()
        return Step(kind, encode(self.message(method, params, msg_id)), [msg_id])

    # -- valid-shaped messages -------------------------------------------------------------
    def did_open(self) -> Step:
        uri, text = self.uri(fresh=True), self.text()
        version = self.rng.randint(0, 5)
        self.docs[uri] = (version, text)
        item = {"uri": uri, "languageId": self.rng.choice(["python", "python", "plaintext"]),
                "version": version, "text": text}
        return Step("didOpen", encode(self.message("textDocument/didOpen",
                                                   {"textDocument": item})))

    def did_change(self) -> Step:
        uri = self.uri()
        version, text = self.docs.get(uri, (0, ""))
        changes = []
        for _ in range(self.rng.randint(1, 3)):
            if self.rng.random() < 0.2:
                text = self.text()
                changes.append({"text": text})
            else:
                changes.append({"range": self.range_(uri), "text": self.text(3)[len(SECRET) + 3:]})
        version += self.rng.choice([1, 1, 1, 0, -1, 7])
        if uri in self.docs:
            self.docs[uri] = (version, text)  # approximate for ranged edits
        params = {"textDocument": {"uri": uri, "version": version}, "contentChanges": changes}
        return Step("didChange", encode(self.message("textDocument/didChange", params)))

    def did_close(self) -> Step:
        uri = self.uri()
        self.docs.pop(uri, None)
        return Step("didClose", encode(self.message("textDocument/didClose",
                                                    {"textDocument": {"uri": uri}})))

    def completion_params(self, uri: str | None = None) -> dict[str, Any]:
        uri = uri or self.uri()
        return {"textDocument": {"uri": uri}, "position": self.position(uri),
                "context": {"triggerKind": self.rng.choice([1, 2])}}

    def inline(self) -> Step:
        return self.request_step("inlineCompletion", "textDocument/inlineCompletion",
                                 self.completion_params())

    def completion(self) -> Step:
        params = self.completion_params()
        params["context"] = {"triggerKind": 1}
        return self.request_step("completion", "textDocument/completion", params)

    def code_action(self) -> Step:
        uri = self.uri()
        params = {"textDocument": {"uri": uri}, "range": self.range_(uri),
                  "context": {"diagnostics": []}}
        return self.request_step("codeAction", "textDocument/codeAction", params)

    def resolve(self) -> Step:
        uri = self.uri()
        pos = self.position(uri)
        data = {"uri": uri, "line": pos["line"], "character": pos["character"],
                "version": self.docs.get(uri, (None, ""))[0]}
        if self.rng.random() < 0.3:
            data = self.rng.choice(WEIRD)
        params = {"title": "Generate from docstring", "kind": "refactor.rewrite", "data": data}
        return self.request_step("codeActionResolve", "codeAction/resolve", params)

    def command(self) -> Step:
        uri = self.uri()
        args = self.rng.choice([
            [uri, self.position(uri), self.docs.get(uri, (None, ""))[0]],
            [uri], [], [self.rng.choice(WEIRD)], [[uri, {"line": 0}]],
        ])
        name = self.rng.choice(["tenon.generateFromDocstring", "tenon.generateFromDocstring",
                                "tenon.noSuchCommand"])
        return self.request_step("executeCommand", "workspace/executeCommand",
                                 {"command": name, "arguments": args})

    def stats(self) -> Step:
        return self.request_step("stats", "tenon/stats", {})

    def config(self) -> Step:
        choices = {
            "maxTokens": {"line": self.rng.randint(1, 64), "block": self.rng.randint(1, 64)},
            "temperature": self.rng.choice([0.0, 0.7, 2.0, -1, "hot"]),
            "topP": self.rng.choice([0.5, 1.0, 0, 7]),
            "prefixTokens": self.rng.choice([1, 64, 1024, 10**9]),
            "suffixTokens": self.rng.choice([0, 16, 256]),
            "candidates": self.rng.choice([1, 2]),
            "logLevel": self.rng.choice(["info", "debug", "warning", "loud"]),
            "bundlePath": self.rng.choice(["/nonexistent/bundle", "", 5]),
            "device": self.rng.choice(["cuda", "cpu", "tpu"]),
            "noSuchSetting": 1,
        }
        keys = self.rng.sample(sorted(choices), self.rng.randint(1, 3))
        settings = {"tenon": {k: choices[k] for k in keys}}
        return Step("config", encode(self.message("workspace/didChangeConfiguration",
                                                  {"settings": settings})))

    def cancel(self) -> Step:
        target = self.rng.choice([next(self._ids) - self.rng.randint(0, 20), "nope", None])
        return Step("cancel", encode(self.message("$/cancelRequest", {"id": target})))

    # -- hostile messages ------------------------------------------------------------------
    def mutate(self, value: Any, depth: int = 0) -> Any:
        """``value`` with one field replaced by a wrong type, removed, or an extra added."""
        if not isinstance(value, dict) or not value or depth > 4:
            return self.rng.choice(WEIRD)
        key = self.rng.choice(sorted(value))
        copy = dict(value)
        roll = self.rng.random()
        if roll < 0.2:
            del copy[key]
        elif roll < 0.3:
            copy["unexpectedField"] = self.rng.choice(WEIRD)
        else:
            copy[key] = self.mutate(value[key], depth + 1)
        return copy

    def wrong_types(self) -> Step:
        maker = self.rng.choice([self.inline, self.completion, self.code_action, self.resolve,
                                 self.command, self.did_change, self.did_open, self.config])
        base = json.loads(_body_of(maker().data))
        base["params"] = self.mutate(base.get("params"))
        expect = [base["id"]] if "id" in base else []
        if self.rng.random() < 0.15 and "id" in base:
            base["id"] = self.rng.choice([True, 1.5, None, [], {}])
            expect = []
        return Step("wrongTypes", encode(base), expect)

    def unknown_method(self) -> Step:
        name = self.rng.choice(["textDocument/hover", "tenon/nothing", "$/weird", "",
                                "x" * 300, "workspace/symbol", "💥"])
        if self.rng.random() < 0.6:
            return self.request_step("unknownMethod", name, self.rng.choice(WEIRD))
        return Step("unknownMethod", encode(self.message(name, self.rng.choice(WEIRD))))

    def follow_up(self, kind: str, data: bytes) -> Step:
        """Broken bytes, then a good request that must still be answered."""
        good = self.stats() if self.rng.random() < 0.7 else self.inline()
        return Step(kind, data + good.data, good.expect)

    def length_short(self) -> Step:
        body = _body_of(self.inline().data)
        cut = self.rng.randint(1, len(body) - 1)
        return self.follow_up("lengthTooShort", b"Content-Length: %d\r\n\r\n" % cut + body)

    def length_long(self) -> Step:
        body = _body_of(self.inline().data)
        extra = self.rng.choice([1, 10, 100, 10_000])
        return self.follow_up("lengthTooLong",
                              b"Content-Length: %d\r\n\r\n" % (len(body) + extra) + body)

    def truncated(self) -> Step:
        body = _body_of(self.did_open().data)
        return self.follow_up("truncatedBody", b"Content-Length: %d\r\n\r\n" % len(body)
                              + body[: self.rng.randint(0, len(body) - 1)])

    def garbage(self) -> Step:
        kind = self.rng.choice(["bytes", "headers", "badLength", "huge", "noLength"])
        if kind == "bytes":
            data = bytes(self.rng.randrange(256) for _ in range(self.rng.randint(1, 300)))
        elif kind == "headers":
            data = self.rng.choice([b"Content-Type: text/plain\r\n", b"X-Junk\r\n",
                                    b"::::\r\n", b"\r\n\r\n", b"Content-Length:\r\n",
                                    b"\xff\xfe\r\n", b"Content-Length: 5 5\r\n"])
        elif kind == "badLength":
            data = self.rng.choice([b"Content-Length: -5\r\n\r\n{}", b"Content-Length: x\r\n\r\n",
                                    b"Content-Length: 0x10\r\n\r\n{}"])
        elif kind == "huge":
            data = b"Content-Length: %d\r\n\r\n{}" % self.rng.choice([10**12, 2**63, 10**40])
        else:
            unframed = encode(self.message("tenon/stats", {}, "junk-unframed"))
            data = b"\r\n" + unframed[len(b"Content-Length: "):]
        return self.follow_up("garbageHeaders", data)

    def not_json(self) -> Step:
        body = self.rng.choice([
            b"{", b"}", b"nul", b'{"jsonrpc": "2.0", "id": 1, "method": ', b"\xff\xfe\x00",
            b"\xc3\x28", b"[" * 100_000 + b"]" * 100_000, b'{"a": NaN}', b"   ", b"",
            b'{"jsonrpc":"2.0","id":"junk-5","method":"tenon/stats"}garbage',
        ])
        return self.follow_up("invalidJson", frame(body))

    def not_object(self) -> Step:
        n = next(self._ids)
        body, expect = self.rng.choice([
            ([1, 2], []), (5, []), ("text", []), (None, []),
            ([{"jsonrpc": "2.0", "id": "junk-1", "method": "tenon/stats"}], []),
            ({"id": f"junk-3-{n}"}, [f"junk-3-{n}"]),
            ({"jsonrpc": "1.0", "id": f"junk-v1-{n}", "method": "x"}, [f"junk-v1-{n}"]),
            ({"jsonrpc": "2.0"}, []),
            ({"jsonrpc": "2.0", "method": 5, "id": f"junk-9-{n}"}, [f"junk-9-{n}"]),
            ({"jsonrpc": "2.0", "id": "junk-r", "result": {"applied": True}}, []),
        ])
        data = frame(json.dumps(body).encode())
        if expect:
            return Step("notObject", data, list(expect))
        return self.follow_up("notObject", data)

    def header_variants(self) -> Step:
        good = self.inline() if self.rng.random() < 0.5 else self.stats()
        body = _body_of(good.data)
        header = self.rng.choice([
            b"Content-Length: %d\r\nContent-Type: application/vscode-jsonrpc; charset=utf-8\r\n"
            b"\r\n", b"content-length: %d\r\n\r\n", b"Content-Length: %d\n\n",
            b"Content-Type: application/vscode-jsonrpc\r\nContent-Length:   %d  \r\n\r\n",
        ])
        return Step("headerVariants", header % len(body) + body, good.expect)

    # -- the 10 MB document ----------------------------------------------------------------
    def big_steps(self) -> list[Step]:
        if self._big is None:
            self._big = big_text(self.rng)
        uri = "file:///fuzz/big.py"
        item = {"uri": uri, "languageId": "python", "version": 1, "text": self._big}
        self.docs[uri] = (1, self._big)
        steps = [Step("bigDocument", encode(self.message("textDocument/didOpen",
                                                         {"textDocument": item})))]
        for _ in range(3):
            steps.append(self.request_step("bigDocument", "textDocument/inlineCompletion",
                                           self.completion_params(uri)))
            params = {"textDocument": {"uri": uri, "version": 2},
                      "contentChanges": [{"range": self.range_(uri), "text": "x = 1\r\n😀"}]}
            steps.append(Step("bigDocument", encode(self.message("textDocument/didChange",
                                                                 params))))
        steps.append(self.request_step("bigDocument", "textDocument/codeAction", {
            "textDocument": {"uri": uri}, "range": self.range_(uri),
            "context": {"diagnostics": []}}))
        steps.append(Step("bigDocument", encode(self.message("textDocument/didClose",
                                                             {"textDocument": {"uri": uri}}))))
        self.docs.pop(uri, None)
        return steps

    # -- the mix ---------------------------------------------------------------------------
    WEIGHTS: ClassVar[dict[str, int]] = {
        "did_open": 5, "did_change": 18, "did_close": 2, "inline": 12, "completion": 6,
        "code_action": 7, "resolve": 2, "command": 2, "stats": 2, "config": 1, "cancel": 2,
        "wrong_types": 10, "unknown_method": 5, "length_short": 3, "length_long": 3,
        "truncated": 3, "garbage": 5, "not_json": 4, "not_object": 3, "header_variants": 3,
    }

    def steps(self, count: int):
        names = list(self.WEIGHTS)
        weights = [self.WEIGHTS[n] for n in names]
        produced = 0
        while produced < count:
            if self.big_every and produced and produced % self.big_every == 0:
                for step in self.big_steps():
                    produced += 1
                    yield step
                if produced >= count:
                    return
            name = self.rng.choices(names, weights)[0]
            produced += 1
            yield getattr(self, name)()
