"""The short window's loop check: a looping greedy decode goes to the full 30 s path."""

from __future__ import annotations

import pytest

from services.whisper_short_window import repeats_itself


@pytest.mark.parametrize(
    "text",
    [
        " and retry, and retry,",  # the loop CI saw in the resumed answer of the e2e interview
        " and retries and retries and retries and retries and ret",
        " Merchant merchant merchant merchant",
        " I would use a queue to hold the jobs, a queue to hold the jobs.",
    ],
)
def test_a_looping_decode_is_sent_to_the_full_path(text: str) -> None:
    assert repeats_itself(text)


@pytest.mark.parametrize(
    "text",
    [
        " I would use a database and retries.",
        " No, no. I would roll back both writes.",  # one word twice is speech
        " The payment record and the key are written in one transaction.",
        "",
    ],
)
def test_ordinary_answers_keep_the_fast_path(text: str) -> None:
    assert not repeats_itself(text)
