"""Cutting the prefix to its budget, and which budgets each mode gets."""

from tenon.completion import budgets_of
from tenon.context import classify as modes
from tenon.context.prompt import cut_prefix
from tenon.settings import Settings


def count(text: str) -> int:
    return len(text) // 4  # a stand-in tokenizer: four characters a token


def document(lines: int) -> str:
    return "".join(f"value_{i:04d} = compute({i}, scale=2)\n" for i in range(lines))


def first_line_of(kept: str, prefix: str) -> int:
    return prefix[: len(prefix) - len(kept)].count("\n")


def test_cut_prefix_fits_the_budget_and_keeps_the_cursor_line():
    prefix = document(600) + "result = "
    kept = cut_prefix(prefix, 1024, count)
    assert prefix.endswith(kept) and kept.endswith("result = ")
    assert count(kept) <= 1024
    assert prefix[len(prefix) - len(kept) - 1] == "\n"  # starts at a line boundary
    assert count(kept) > 1024 - 16 * 10  # loses less than one stride of lines


def test_nearby_cursors_share_the_first_line_of_the_prompt():
    text = document(600)
    lines = text.splitlines(keepends=True)
    starts = set()
    for cursor in range(400, 416):
        prefix = "".join(lines[:cursor])
        kept = cut_prefix(prefix, 1024, count)
        starts.add(first_line_of(kept, prefix))
    assert all(start % 16 == 0 for start in starts)
    assert len(starts) <= 2  # a window sliding line by line would give 16


def test_a_small_budget_keeps_every_line_that_fits():
    prefix = document(100) + "x = "
    kept = cut_prefix(prefix, 48, count)
    one_more = prefix[: len(prefix) - len(kept)].splitlines(keepends=True)[-1] + kept
    assert count(kept) <= 48 < count(one_more)


def test_only_newlines_end_lines_when_aligning():
    prefix = "\x0c\n".join(document(300).splitlines(keepends=True)) + "y = "
    kept = cut_prefix(prefix, 1024, count)
    assert first_line_of(kept, prefix) % 16 == 0
    assert count(kept) <= 1024 and kept.endswith("y = ")


def test_plain_code_as_typed_gets_its_own_smaller_budgets():
    settings = Settings()
    for mode in (modes.LINE, modes.BLOCK):  # alike, so Enter keeps the cached prompt start
        typing = budgets_of(settings, mode)
        assert (typing.prefix_tokens, typing.suffix_tokens) == (
            settings.typing_prefix_tokens, settings.typing_suffix_tokens)
        assert typing.prefix_tokens < settings.prefix_tokens
    for mode in (modes.DOCSTRING_BODY, modes.COMMENT_INTENT):
        larger = budgets_of(settings, mode)
        assert (larger.prefix_tokens, larger.suffix_tokens) == (
            settings.prefix_tokens, settings.suffix_tokens)
    capped = budgets_of(Settings(prefix_tokens=100, suffix_tokens=10), modes.LINE)
    assert (capped.prefix_tokens, capped.suffix_tokens) == (100, 10)
