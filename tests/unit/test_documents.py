"""Document changes in every position encoding against an independent reference: the text
is encoded, edited as code units, and decoded; lines split only at LF, CRLF and CR."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st
from lsprotocol import types

from tenon.documents import DocumentStore, apply_change

CODEC = {"utf-8": ("utf-8", 1), "utf-16": ("utf-16-le", 2), "utf-32": ("utf-32-le", 4)}
PIECES = [*"ab \t(\"#é😀计\u2028\x0c", "e\u0301", "\n", "\r\n", "\r"]
TEXT = st.lists(st.sampled_from(PIECES), max_size=30).map("".join)


def reference_offset(text: str, line: int, character: int, encoding: str) -> int:
    """Index of an LSP position, computed by encoding the line and counting code units."""
    starts = [0] + [m.end() for m in re.finditer(r"\r\n|\r|\n", text)]
    end = starts[line + 1] if line + 1 < len(starts) else len(text)
    content = text[starts[line]:end].rstrip("\r\n")
    codec, unit = CODEC[encoding]
    data = content.encode(codec, "surrogatepass")[: character * unit]
    return starts[line] + len(data.decode(codec, "ignore"))


def positions(text: str, encoding: str):
    """Every valid (line, character) of ``text`` that falls on a character boundary."""
    codec, unit = CODEC[encoding]
    for line, content in enumerate(re.split(r"\r\n|\r|\n", text)):
        width = 0
        yield line, 0
        for ch in content:
            width += len(ch.encode(codec, "surrogatepass")) // unit
            yield line, width


@settings(max_examples=300, deadline=None)
@given(TEXT, st.sampled_from(sorted(CODEC)), st.data(), st.text(max_size=5))
def test_ranged_change_matches_the_reference(text, encoding, data, insert):
    choices = list(positions(text, encoding))
    (l1, c1), (l2, c2) = sorted([data.draw(st.sampled_from(choices)) for _ in range(2)])
    start = reference_offset(text, l1, c1, encoding)
    end = reference_offset(text, l2, c2, encoding)
    change = types.TextDocumentContentChangePartial(
        range=types.Range(types.Position(l1, c1), types.Position(l2, c2)), text=insert)
    assert apply_change(text, change, encoding) == text[:start] + insert + text[end:]


def test_a_change_sequence_in_utf8_through_the_store():
    store = DocumentStore()
    store.encoding = "utf-8"
    store.open(types.TextDocumentItem("file:///d.py", "python", 1, "é😀x\r\ny"))
    revision = store.revision("file:///d.py")
    store.change(types.DidChangeTextDocumentParams(
        types.VersionedTextDocumentIdentifier(version=2, uri="file:///d.py"),
        [types.TextDocumentContentChangePartial(  # after "é😀" (2 + 4 bytes), before "x"
            range=types.Range(types.Position(0, 6), types.Position(0, 6)), text="!"),
         types.TextDocumentContentChangePartial(  # the second line, CRLF-separated
            range=types.Range(types.Position(1, 0), types.Position(1, 1)), text="z")]))
    assert store.get("file:///d.py").text == "é😀!x\r\nz"
    assert store.revision("file:///d.py") != revision
