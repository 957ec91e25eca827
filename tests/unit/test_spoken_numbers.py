"""Digits become the words people say, so transcripts and scripts compare equal."""

import pytest

from interview.spoken_numbers import integer_words, numbers_to_words
from interview.text_similarity import normalise


@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        ("a 5-minute TTL", "a five minute TTL"),
        ("99.9% uptime", "ninety nine point nine percent uptime"),
        ("10x the traffic", "ten times the traffic"),
        ("1,200 requests", "one thousand two hundred requests"),
        ("the 3rd retry, the 21st shard", "the third retry, the twenty first shard"),
        ("4k users", "four thousand users"),
        ("no numbers here", "no numbers here"),
    ],
)
def test_numbers_to_words(written: str, spoken: str) -> None:
    assert numbers_to_words(written) == spoken


def test_integer_words_covers_the_scales() -> None:
    assert integer_words(0) == "zero"
    assert integer_words(105) == "one hundred five"
    assert integer_words(2_000_019) == "two million nineteen"


def test_comparisons_normalise_numbers() -> None:
    assert normalise("Ten times the traffic") == normalise("10x the traffic")
