"""The end-of-turn model: the real SmolLM2 on llama.cpp, scoring P(end of turn) the way LiveKit's detector does."""

from __future__ import annotations

import asyncio
import threading

import pytest

from turn_taking.end_of_turn_model import (
    MAX_ANSWER_WORDS,
    WINDOW_STEP_WORDS,
    EndOfTurnScorer,
    answer_window,
    normalise,
    shared_end_of_turn_scorer,
)

QUESTION = "How would you design a service that accepts payments?"


@pytest.fixture(scope="module")
def scorer() -> EndOfTurnScorer:
    return shared_end_of_turn_scorer()


def score(scorer: EndOfTurnScorer, question: str, answer: str) -> float:
    return asyncio.run(scorer.score(question, answer)).log_p


def test_text_is_normalised_as_livekit_does() -> None:
    assert normalise("  It makes me FEEL.  ") == "it makes me feel"
    assert normalise("Well, I'd say… the read-path?") == "well i'd say the read-path"


def test_a_lead_in_or_an_open_clause_scores_far_below_a_finished_answer(scorer: EndOfTurnScorer) -> None:
    finished = score(scorer, QUESTION, "I would put a queue in front of it and make every request idempotent.")
    for fragment in ("Honestly.", "For the database,", "The part that worries me most is."):
        assert score(scorer, QUESTION, fragment) < finished - 3, fragment  # 20 times less likely, or less


def test_the_full_stop_the_recogniser_adds_changes_nothing(scorer: EndOfTurnScorer) -> None:
    assert score(scorer, QUESTION, "It makes me feel.") == pytest.approx(score(scorer, QUESTION, "it makes me feel"))


def test_a_growing_answer_evaluates_only_its_new_words(scorer: EndOfTurnScorer) -> None:
    asyncio.run(scorer.score("Something else entirely?", "yes"))  # nothing of this question in the cache
    first = asyncio.run(scorer.score(QUESTION, "I would start with"))
    grown = asyncio.run(scorer.score(QUESTION, "I would start with the database and the queue"))
    assert grown.new_tokens <= 5 < first.new_tokens
    # the same numbers as one full pass (a reused prefix shifts P only slightly)
    asyncio.run(scorer.score("Something else entirely?", "yes"))
    fresh = asyncio.run(scorer.score(QUESTION, "I would start with the database and the queue"))
    assert fresh.new_tokens > grown.new_tokens
    assert fresh.log_p == pytest.approx(grown.log_p, abs=0.5)


def test_it_runs_off_the_event_loop(scorer: EndOfTurnScorer, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []
    model = scorer._model
    original = model.score

    def record(question: str, answer: str):  # type: ignore[no-untyped-def]
        seen.append(threading.current_thread().name)
        return original(question, answer)

    monkeypatch.setattr(model, "score", record)
    asyncio.run(scorer.score(QUESTION, "yes"))
    assert seen and seen[0].startswith("end-of-turn") and seen[0] != threading.main_thread().name


def test_a_long_answer_fits_the_context(scorer: EndOfTurnScorer) -> None:
    long_answer = " ".join(["we retry the payment with the same key and the bank sees it once"] * 40)
    assert score(scorer, QUESTION * 10, long_answer) < 0


def test_a_primed_question_leaves_only_the_answer_to_evaluate(scorer: EndOfTurnScorer) -> None:
    asyncio.run(scorer.score("Something else entirely?", "yes"))
    scorer.prime(QUESTION)  # in the background, as when the candidate starts to speak
    primed = asyncio.run(scorer.score(QUESTION, "I would start with the database"))
    asyncio.run(scorer.score("Something else entirely?", "yes"))
    cold = asyncio.run(scorer.score(QUESTION, "I would start with the database"))
    assert primed.new_tokens <= 8 < cold.new_tokens
    assert primed.log_p == pytest.approx(cold.log_p, abs=0.5)


def test_past_the_limit_the_answer_window_moves_in_steps() -> None:
    def window(n: int) -> list[str]:
        return answer_window(" ".join(f"w{i}" for i in range(n))).split(" ")

    assert len(window(MAX_ANSWER_WORDS)) == MAX_ANSWER_WORDS
    starts = {window(n)[0] for n in range(MAX_ANSWER_WORDS + 1, MAX_ANSWER_WORDS + WINDOW_STEP_WORDS)}
    assert starts == {f"w{WINDOW_STEP_WORDS}"}, "one start for a whole step: the cache is reused"
    for n in range(MAX_ANSWER_WORDS + 1, MAX_ANSWER_WORDS + 3 * WINDOW_STEP_WORDS):
        assert MAX_ANSWER_WORDS - WINDOW_STEP_WORDS <= len(window(n)) <= MAX_ANSWER_WORDS


def test_a_long_answer_growing_past_the_limit_still_costs_its_new_words(scorer: EndOfTurnScorer) -> None:
    sentence = "we retry the payment with the same key and the bank sees it once"
    answer = " ".join([sentence] * (MAX_ANSWER_WORDS // 14 + 1))  # just past the limit
    asyncio.run(scorer.score(QUESTION, answer))
    grown = asyncio.run(scorer.score(QUESTION, f"{answer} and then it stops"))
    assert grown.new_tokens <= 6
