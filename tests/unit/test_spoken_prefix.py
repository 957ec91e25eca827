"""SpokenPrefix: a retried reply never repeats the words already said."""

from __future__ import annotations

import re

import pytest

from services.failover.spoken_prefix import SpokenPrefix

SAID = "That makes sense. How would"
REPLY = "That makes sense. How would you keep it idempotent?"


def feed_tokens(prefix: SpokenPrefix, text: str) -> str:
    return "".join(prefix.feed(t) for t in re.findall(r"\s*\S+", text))


def test_the_already_said_start_is_dropped_token_by_token() -> None:
    assert feed_tokens(SpokenPrefix(SAID), REPLY) == " you keep it idempotent?"


def test_a_different_reply_goes_on_whole() -> None:
    other = "Sorry, could you repeat that?"
    assert feed_tokens(SpokenPrefix(SAID), other) == other


@pytest.mark.parametrize("said", ["", "   "])
def test_nothing_said_means_nothing_dropped(said: str) -> None:
    assert feed_tokens(SpokenPrefix(said), REPLY) == REPLY


def test_punctuation_of_the_last_word_said_is_not_said_again() -> None:
    assert SpokenPrefix("How would you keep it idempotent").feed(REPLY[18:]) == ""
    assert SpokenPrefix("That makes sense").feed("That makes sense. Next question.") == " Next question."


def test_case_and_punctuation_do_not_make_a_difference() -> None:
    assert SpokenPrefix("that makes sense how").feed(REPLY) == " would you keep it idempotent?"
