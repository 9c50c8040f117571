"""The LSP reader: frames survive any chunking, damage costs one message, every request
that can be identified is answered (through the real server's protocol)."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from tenon.server import build_server
from tenon.transport import MAX_BODY, FrameParser, dispatch

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=12,
)
BODIES = st.dictionaries(st.text(max_size=8), JSON_VALUES, max_size=5).map(
    lambda d: json.dumps({"jsonrpc": "2.0", **d}).encode())


def framed(body: bytes, length: int | None = None) -> bytes:
    return b"Content-Length: %d\r\n\r\n" % (len(body) if length is None else length) + body


def feed_in_pieces(data: bytes, cuts: list[int]) -> list[bytes]:
    parser = FrameParser()
    out, start = [], 0
    for cut in [*sorted(c % (len(data) + 1) for c in cuts), len(data)]:
        out += parser.feed(data[start:cut])
        start = max(start, cut)
    return out


@settings(max_examples=200, deadline=None)
@given(st.lists(BODIES, min_size=1, max_size=6), st.lists(st.integers(0, 10_000), max_size=8))
def test_any_chunking_gives_the_same_bodies(bodies, cuts):
    assert feed_in_pieces(b"".join(framed(b) for b in bodies), cuts) == bodies


@settings(max_examples=200, deadline=None)
@given(BODIES, BODIES, st.binary(max_size=200).filter(lambda g: b":" not in g),
       st.lists(st.integers(0, 10_000), max_size=4))
def test_garbage_before_a_frame_costs_nothing_after_it(first, second, garbage, cuts):
    bodies = feed_in_pieces(framed(first) + garbage + framed(second), cuts)
    assert bodies[0] == first and bodies[-1] == second


@settings(max_examples=300, deadline=None)
@given(BODIES, BODIES, st.integers(-200, 20_000).filter(lambda n: n != 0),
       st.lists(st.integers(0, 10_000), max_size=4))
def test_a_lying_length_costs_only_its_own_message(lying, good, error, cuts):
    length = max(0, len(lying) + error)
    bodies = feed_in_pieces(framed(lying, length) + framed(good) + framed(good), cuts)
    assert bodies[-2:] == [good, good]


def test_over_long_lines_and_huge_lengths_are_skipped():
    parser = FrameParser(max_line=1000)
    out = parser.feed(b"x" * 5000)  # a line with no end in sight: not kept in memory
    out += parser.feed(b"Content-Length: %d\r\n\r\n{}" % (MAX_BODY + 1))
    out += parser.feed(framed(b'{"ok": 1}'))
    assert out[-1] == b'{"ok": 1}'
    assert parser.stats.skipped_bytes > 0 and parser.stats.oversized == 1


def test_header_variants_are_accepted():
    body = b'{"a": 1}'
    for header in (b"content-length: 8\r\n\r\n", b"Content-Length: 8\n\n",
                   b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n"
                   b"Content-Length:   8  \r\n\r\n"):
        assert FrameParser().feed(header + body) == [body]


class Capture:
    """A writer for the real server protocol that keeps what it writes."""

    def __init__(self) -> None:
        self.data = b""

    def write(self, data: bytes) -> None:
        self.data += data

    def close(self) -> None:
        pass

    def messages(self) -> list[dict]:
        return [json.loads(b) for b in FrameParser().feed(self.data)]


def answers(*bodies: bytes) -> list[dict]:
    server = build_server()
    writer = Capture()
    server.protocol.set_writer(writer)
    for body in bodies:
        dispatch(server.protocol, body)
    return writer.messages()


def test_every_identifiable_request_is_answered():
    got = answers(
        b"{not json", b"\xff\xfe", b"[" * 100_000, b"[1, 2]",
        b'{"jsonrpc": "1.0", "id": "old", "method": "x"}',
        b'{"jsonrpc": "2.0", "id": 1.5, "method": "tenon/stats"}',
        b'{"jsonrpc": "2.0", "id": "m", "method": 5}',
        b'{"jsonrpc": "2.0", "id": "p", "method": "textDocument/completion", "params": 3}',
        b'{"jsonrpc": "2.0", "id": "u", "method": "no/such/method"}',
    )
    by_id = {m.get("id"): m["error"]["code"] for m in got}
    assert by_id == {None: -32600, "old": -32600, "m": -32600, "p": -32602, "u": -32601}
    null_ids = [m["error"]["code"] for m in got if m["id"] is None]
    assert null_ids == [-32700, -32700, -32700, -32600, -32600]  # 3 parse errors, 2 invalid


def test_notifications_that_do_not_fit_get_no_answer():
    assert answers(b'{"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": []}',
                   b'{"jsonrpc": "2.0", "method": "no/such/notification"}') == []
