"""The interview turn-stop decision: each path, from text, audio and context."""

from __future__ import annotations

import pytest

from interview.config import InterviewTurnStop
from interview.turn_policy import PauseHistory, PauseInputs, decide
from interview.turn_signals import asks_itself, expected_min_words, hands_over, only_a_lead_in, open_list, read_answer

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
    assert decide(SETTINGS, PauseInputs(text, 0.9, OPEN, near_miss_pauses=(0.9,))).wait_secs == 1.4
    assert decide(SETTINGS, PauseInputs(text, 0.9, OPEN, near_miss_pauses=(1.0,))).wait_secs == 1.5  # up to unsure
    # A pause no done wait could cover (the candidate heard the reply, or began the next answer) teaches nothing.
    assert decide(SETTINGS, PauseInputs(text, 0.9, OPEN, near_miss_pauses=(2.0,))).wait_secs == 0.8
    assert decide(SETTINGS, PauseInputs(text, 0.9, OPEN, near_miss_pauses=(0.3,))).wait_secs == 0.8


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


# -- the end-of-turn model's say, handing over, and recovering from a false end ------------------

FINISHED = "We store the key in the same transaction as the payment."
RESEARCH = InterviewTurnStop(
    done_wait_secs=2.0, unsure_wait_secs=4.0, unfinished_wait_secs=8.5, max_wait_secs=12.0, handover_wait_secs=0.9
)


def test_words_the_model_calls_unfinished_wait_long_whatever_the_full_stop_says() -> None:
    # Whisper writes "It makes me feel." as a sentence; the rules read it as finished, the model does not.
    assert read_answer("It makes me feel.").finished
    decision = decide(SETTINGS, PauseInputs("It makes me feel.", 0.9, OPEN, end_of_turn_log_p=-20.0))
    assert (decision.verdict, decision.wait_secs) == ("unfinished", 2.5)
    assert any(r.startswith("model: log P(end) -20.0 (unfinished)") for r in decision.reasons)


def test_a_model_doubt_is_unsure_and_its_confidence_overrules_a_word_rule() -> None:
    assert decide(SETTINGS, PauseInputs(FINISHED, 0.9, OPEN, end_of_turn_log_p=-11.0)).verdict == "unsure"
    assert decide(SETTINGS, PauseInputs(FINISHED, 0.9, OPEN, end_of_turn_log_p=-6.0)).verdict == "done"
    # "this" is on the determiner list; the model reads the sentence as complete.
    enjoyed = "I worked on the payments team for two years and I really enjoyed this."
    assert decide(SETTINGS, PauseInputs(enjoyed, 0.9, OPEN)).verdict == "unfinished"
    assert decide(SETTINGS, PauseInputs(enjoyed, 0.9, OPEN, end_of_turn_log_p=-6.0)).verdict == "done"


def test_turning_the_model_off_ignores_its_judgement() -> None:
    off = SETTINGS.model_copy(update={"end_of_turn_model": False})
    text = "When the pager goes off at night it makes me feel."
    assert decide(off, PauseInputs(text, 0.9, OPEN, end_of_turn_log_p=-20.0)).verdict == "done"


@pytest.mark.parametrize(
    ("text", "handed_over"),
    [
        ("I'd shard by merchant. Does that answer your question?", True),
        ("Should I go deeper on the write path?", True),
        ("We moved it to a nightly job, and that's it.", True),
        ("No, that's everything.", True),
        ("What did I like most?", False),  # a question the speaker asks themselves
        ("I started using it last spring.", False),
    ],
)
def test_handing_the_turn_over(text: str, handed_over: bool) -> None:
    assert (hands_over(text) is not None) is handed_over


def test_research_patience_waits_long_on_a_finished_sentence_but_not_on_a_handover() -> None:
    question = "Tell me about the last time you used the app."
    sentence = "I used it on the train every morning last month, mostly to read the news before work."
    assert decide(RESEARCH, PauseInputs(sentence, 0.9, question, end_of_turn_log_p=-6.0)).wait_secs >= 2.0
    closing = f"{sentence} That's about it."
    decision = decide(RESEARCH, PauseInputs(closing, 0.9, question, end_of_turn_log_p=-6.0))
    assert (decision.verdict, decision.wait_secs) == ("done", 0.9)


def test_a_question_the_speaker_asks_themselves_is_not_the_end() -> None:
    decision = decide(
        RESEARCH, PauseInputs("What did I like most about it?", 0.9, "How was it?", end_of_turn_log_p=-7.0)
    )
    assert decision.verdict == "unfinished"
    assert "text: a question the speaker put to themselves" in decision.reasons


def test_a_false_end_stops_slowing_replies_once_later_answers_end_cleanly() -> None:
    history = PauseHistory(recover_after=3)
    history.answer_ended()
    history.resumed(1.0)
    history.near_miss(1.0)  # the candidate went on 1.0 s after an answer that read as done
    waits = []
    for _ in range(4):
        inputs = PauseInputs(
            FINISHED, 0.9, OPEN, resumed_pauses=history.resumed_pauses, near_miss_pauses=history.near_miss_pauses
        )
        waits.append(decide(SETTINGS, inputs).wait_secs)
        history.answer_ended()
    assert waits == [1.5, 1.5, 1.5, 0.8]
    assert history.resumed_pauses == [1.0]  # a slow thinker's pauses still stretch the unfinished wait


@pytest.mark.parametrize(
    ("text", "open_"),
    [
        ("We had three problems: a flaky deploy pipeline.", True),
        ("We had three problems: a flaky deploy pipeline, runaway costs, and latency.", False),
        ("The people, first of all. Then the routine of going somewhere.", True),
        ("The people, first of all. Then the routine. And I suppose the lunches.", False),
        ("I would use a queue and a cache.", False),
    ],
)
def test_an_announced_list_stays_open_until_its_last_item(text: str, open_: bool) -> None:
    assert open_list(text) is open_


def test_a_lead_in_alone_is_not_an_answer_to_an_open_question() -> None:
    assert only_a_lead_in("Honestly.") and only_a_lead_in("Well, hmm.") and only_a_lead_in("Good question.")
    assert not only_a_lead_in("Honestly, I would shard it.")
    assert decide(SETTINGS, PauseInputs("Honestly.", 0.9, OPEN, end_of_turn_log_p=-5.0)).verdict == "unfinished"
    assert decide(SETTINGS, PauseInputs("Yeah.", 0.9, "Did you use Kafka?")).verdict == "done"  # a yes/no question


def test_only_closing_and_a_few_yes_no_forms_are_answered_in_a_word() -> None:
    assert expected_min_words("Thanks. Is there anything else you'd like to add?", 8) == 1
    assert expected_min_words("Did you use Kafka?", 8) == 1
    assert expected_min_words("Was the new shift rota a big deal for you?", 8) == 8  # a story, in research
    assert expected_min_words("What would you change?", 8) == 8


def test_a_self_question_is_a_wh_question_not_put_to_the_interviewer() -> None:
    assert asks_itself("It was hard. Why does that matter?")
    assert not asks_itself("Do you mean the read path or the write path?")
    assert not asks_itself("What do you think?")  # put to the interviewer


def test_model_thresholds_must_grow() -> None:
    with pytest.raises(ValueError, match="model thresholds must grow"):
        InterviewTurnStop(model_unfinished_log_p=-5.0, model_doubt_log_p=-9.0)


def test_a_breath_between_sentences_is_no_near_miss() -> None:
    history = PauseHistory(recover_after=3)
    history.went_on_after("done", 0.3, SETTINGS)  # shorter than the done wait: nothing to learn
    history.went_on_after("unfinished", 2.0, SETTINGS)  # the wait covered it
    assert history.near_miss_pauses == ()
    history.went_on_after("done", 1.0, SETTINGS)
    assert history.near_miss_pauses == (1.0,)
