import pytest

from tenon.context.positions import LineIndex, PositionError, column_to_index, units


@pytest.mark.parametrize(
    ("text", "line", "character", "encoding", "offset"),
    [
        ("abc\ndef", 1, 2, "utf-16", 6),
        ("abc\r\ndef", 1, 0, "utf-16", 5),
        ("abc\rdef", 1, 1, "utf-16", 5),
        ("a\u2028b\nc", 1, 0, "utf-16", 4),  # U+2028 is not an LSP line break
        ("😀x\n", 0, 2, "utf-16", 1),  # the emoji is two UTF-16 units
        ("😀x\n", 0, 1, "utf-16", 0),  # inside a surrogate pair: rounds down
        ("😀x\n", 0, 4, "utf-8", 1),
        ("😀x\n", 0, 1, "utf-32", 1),
        ("ab\n", 0, 99, "utf-16", 2),  # past the end of the line: end of line
        ("e\u0301t", 0, 2, "utf-16", 2),  # combining accent counts as its own unit
    ],
)
def test_offsets(text, line, character, encoding, offset):
    assert LineIndex.of(text).offset(line, character, encoding) == offset


def test_line_past_end_is_an_error():
    with pytest.raises(PositionError):
        LineIndex.of("one line").offset(3, 0)


def test_position_round_trip():
    text = "α😀β\nsecond 😀 line\r\nthird"
    index = LineIndex.of(text)
    for offset in range(len(text) + 1):
        if text[offset - 1 : offset] in ("\r",) and text[offset : offset + 1] == "\n":
            continue  # between \r and \n is not a position
        line, col = index.position(offset)
        assert index.offset(line, col) == offset


def test_units_and_columns():
    assert units("😀a") == 3
    assert units("😀a", "utf-8") == 5
    assert column_to_index("😀a", 3) == 2
