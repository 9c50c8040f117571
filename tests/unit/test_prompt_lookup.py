"""Drafting from the context: the n-gram index and the count of accepted tokens."""

from __future__ import annotations

import pytest

from tenon.inference.prompt_lookup import Lookup


def test_a_draft_follows_the_latest_earlier_occurrence_of_the_tail():
    lookup = Lookup([1, 2, 3, 9, 8, 1, 2, 3, 7, 1, 2, 3])
    assert lookup.draft(2) == [7, 1]  # (1, 2, 3) last occurred before at index 5
    assert lookup.draft(10) == [7, 1, 2, 3]  # no further than the context goes


def test_the_longest_matching_tail_wins_over_a_later_shorter_one():
    # (1, 2, 3) occurred at 1, followed by 7; the 1-gram (3) occurred later, followed by 6
    lookup = Lookup([5, 1, 2, 3, 7, 8, 3, 6, 1, 2, 3])
    assert lookup.draft(2) == [7, 8]
    assert Lookup([5, 1, 2, 3, 7, 8, 3, 6, 4, 3], longest=3).draft(1) == [6]


def test_no_earlier_occurrence_gives_no_draft():
    assert Lookup([1, 2, 3, 4]).draft(4) == []
    assert Lookup([4, 1, 2, 4]).draft(0) == []
    assert Lookup([4, 1, 2, 4]).draft(2) == [1, 2]
    assert Lookup([4, 1, 2, 4], shortest=2).draft(2) == []  # 1-gram fallback off


def test_appended_tokens_are_drafted_from():
    lookup = Lookup([10, 11])
    assert lookup.draft(3) == []
    lookup.append(10)
    assert lookup.draft(3) == [11, 10]  # the draft may run into the tail itself
    lookup.append(12)
    assert lookup.draft(3) == []


def test_n_gram_sizes_are_checked():
    with pytest.raises(ValueError):
        Lookup([1], longest=2, shortest=3)
    with pytest.raises(ValueError):
        Lookup([1], longest=1, shortest=0)
