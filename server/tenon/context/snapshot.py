"""An immutable copy of what a request is about: the document and the cursor."""

from __future__ import annotations

from dataclasses import dataclass

from tenon.context.positions import LineIndex


@dataclass(frozen=True)
class Snapshot:
    uri: str
    version: int | None
    language_id: str
    text: str
    offset: int  # cursor, as an index into ``text``
    revision: int = 0  # the server's revision of the document (tenon.documents)

    @property
    def prefix(self) -> str:
        return self.text[: self.offset]

    @property
    def suffix(self) -> str:
        return self.text[self.offset :]

    def line_index(self) -> LineIndex:
        return LineIndex.of(self.text)


def make_snapshot(
    uri: str,
    version: int | None,
    language_id: str,
    text: str,
    line: int,
    character: int,
    encoding: str = "utf-16",
) -> Snapshot:
    """Snapshot a document at an LSP position; raise PositionError if it lies outside."""
    offset = LineIndex.of(text).offset(line, character, encoding)
    return Snapshot(uri, version, language_id, text, offset)
