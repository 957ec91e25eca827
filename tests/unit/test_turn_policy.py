"""The interview turn-stop decision: each path, from text, audio and context."""

from __future__ import annotations

import pytest

from interview.config import InterviewTurnStop
from interview.turn_policy import PauseInputs, decide
from interview.turn_signals import expected_min_words, read_answer

SETTINGS = InterviewTurnStop(done_wait_secs=0.8, unsure_wait_secs=1.5, unfinished_wait_secs=2.5, max_wait_secs=4.0)
OPEN = "How would you design a service that accepts payments?"


@pytest.mark.parametrize(
    ("text", "finished"),
    [
        ("I would store the key in the same transaction.", True),
        ("I would use a queue and", False),
        ("First I would put the records in a", False),
        ("We sharded it by merchant, so", False),
        ("The write goes to, um", False),
        ("We had a cache in front of it, you know", False),
        ("I think the main thing is,", False),
        ("Then I would...", False),
        ("And let me think.", False),
        ("We move the reconciliation to a nightly job because.", False),  # Whisper's full stop after "because"
        ("Yes.", True),
        ("", False),
    ],
)
def test_text_signal(text: str, finished: bool) -> None:
    assert read_answer(text).finished is finished


def test_all_signals_agree_done_is_the_short_wait() -> None:
    decision = decide(SETTINGS, PauseInputs("We store the key in the same transaction as the payment.", 0.9, OPEN))
    assert (decision.verdict, decision.wait_secs) == ("done", 0.8)


def test_unfinished_words_wait_long_even_when_the_audio_model_says_done() -> None:
    decision = decide(SETTINGS, PauseInputs("I would put a queue in front of the service and", 0.97, OPEN))
    assert (decision.verdict, decision.wait_secs) == ("unfinished", 2.5)
    assert any("connective" in r for r in decision.reasons)


def test_audio_model_doubt_makes_it_unsure_and_confidence_makes_it_unfinished() -> None:
    decision = decide(SETTINGS, PauseInputs("We store the key in the same transaction as the payment.", 0.3, OPEN))
    assert (decision.verdict, decision.wait_secs) == ("unsure", 1.5)
    tidied = "So the first thing I would do for the payment services."  # Whisper dropped the trailing "is"
    assert decide(SETTINGS, PauseInputs(tidied, 0.01, OPEN)).verdict == "unfinished"


def test_a_short_answer_to_an_open_question_is_unsure_but_not_to_a_yes_no_question() -> None:
    assert decide(SETTINGS, PauseInputs("A queue.", 0.9, OPEN)).verdict == "unsure"
    assert decide(SETTINGS, PauseInputs("No.", 0.9, "Is there anything else you would like to ask?")).verdict == "done"
    assert expected_min_words("Do you have any questions for me?", 6) == 1


def test_this_candidates_long_pauses_stretch_the_unfinished_wait_up_to_the_ceiling() -> None:
    inputs = PauseInputs("So the first thing I would do is", 0.9, OPEN, resumed_pauses=(1.0, 3.0))
    assert decide(SETTINGS, inputs).wait_secs == 3.6
    inputs = PauseInputs("So the first thing I would do is", 0.9, OPEN, resumed_pauses=(9.0,))
    assert decide(SETTINGS, inputs).wait_secs == 4.0  # never past max_wait_secs


def test_a_false_end_teaches_a_longer_done_wait_up_to_unsure() -> None:
    text = "We store the key in the same transaction as the payment."
    assert decide(SETTINGS, PauseInputs(text, 0.9, OPEN, false_end_pauses=(1.0,))).wait_secs == 1.25
    assert decide(SETTINGS, PauseInputs(text, 0.9, OPEN, false_end_pauses=(1.25,))).wait_secs == 1.5  # up to unsure
    # A pause no done wait could cover (the candidate heard the reply, or began the next answer) teaches nothing.
    assert decide(SETTINGS, PauseInputs(text, 0.9, OPEN, false_end_pauses=(2.0,))).wait_secs == 0.8
    assert decide(SETTINGS, PauseInputs(text, 0.9, OPEN, false_end_pauses=(0.3,))).wait_secs == 0.8


def test_waits_must_grow() -> None:
    with pytest.raises(ValueError, match="waits must grow"):
        InterviewTurnStop(done_wait_secs=2.0, unsure_wait_secs=1.0)


def test_a_trailing_comma_alone_only_doubts_when_words_and_audio_say_done() -> None:
    comma = "We store the key in the same transaction as the payment,"
    assert read_answer(comma).punctuation_only and not read_answer("We sharded it by merchant, so").punctuation_only
    doubted = decide(SETTINGS, PauseInputs(comma, 0.9, OPEN))
    assert (doubted.verdict, doubted.wait_secs) == ("unsure", 1.5)
    unheard = decide(SETTINGS, PauseInputs(comma, None, OPEN))  # no audio opinion: the comma counts fully
    assert unheard.verdict == "unfinished"
    doubting_audio = decide(SETTINGS, PauseInputs(comma, 0.3, OPEN))
    assert doubting_audio.verdict == "unfinished"
