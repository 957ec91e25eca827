"""The turn-taking corpus: big enough, split by template, deterministic, and readable by the candidate."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from scripts.candidate_script import Pause, Say, load_candidate_script
from scripts.turn_corpus import (
    CATEGORIES,
    HALVES,
    MAX_PAUSE,
    PAUSE_RANGES,
    STYLES,
    CorpusAnswer,
    as_candidate_script,
    build_corpus,
    split,
)

CORPUS = build_corpus()
SPEAKABLE = re.compile(r"[A-Za-z0-9 ,.:?'\-]+")  # plain words for Piper: no markdown, symbols or emoji


def test_is_big_enough_and_every_category_has_templates_with_several_instances() -> None:
    assert len(CORPUS) >= 150
    for category in CATEGORIES:
        answers = [a for a in CORPUS if a.category == category]
        templates = {a.template for a in answers}
        assert len(templates) >= 4, category
        assert all(sum(a.template == t for a in answers) >= 3 for t in templates), category


def test_ids_are_unique_and_name_the_template() -> None:
    assert len({a.id for a in CORPUS}) == len(CORPUS)
    assert all(a.id.startswith(f"{a.template}-") and a.template.startswith(f"{a.category}-") for a in CORPUS)


def test_no_template_is_in_both_halves() -> None:
    halves_of: dict[str, set[str]] = {}
    for a in CORPUS:
        halves_of.setdefault(a.template, set()).add(a.half)
    assert all(len(h) == 1 for h in halves_of.values())
    assert split(CORPUS, "dev") + split(CORPUS, "test") == sorted(CORPUS, key=lambda a: a.half)


@pytest.mark.parametrize("half", HALVES)
def test_each_half_has_every_category_both_styles_and_both_interview_kinds(half: str) -> None:
    answers = split(CORPUS, half)  # type: ignore[arg-type]
    assert abs(len(answers) - len(CORPUS) / 2) <= len(CORPUS) * 0.1
    for category in CATEGORIES:
        in_half = [a for a in answers if a.category == category]
        assert {a.style for a in in_half} == set(STYLES), category
        kinds_overall = {a.interview for a in CORPUS if a.category == category}
        assert {a.interview for a in in_half} == kinds_overall, category


def test_both_interview_kinds_appear_in_most_categories() -> None:
    both = [c for c in CATEGORIES if {a.interview for a in CORPUS if a.category == c} == {"technical", "research"}]
    assert len(both) >= len(CATEGORIES) - 2


def test_the_same_seed_gives_the_same_corpus_and_another_seed_other_fillers_on_the_same_split() -> None:
    assert build_corpus(28) == CORPUS
    other = build_corpus(7)
    shape = [(a.id, a.category, a.interview, a.template, a.half, a.style, a.handover) for a in CORPUS]
    assert [(a.id, a.category, a.interview, a.template, a.half, a.style, a.handover) for a in other] == shape
    changed = sum(a.segments != b.segments or a.question != b.question for a, b in zip(CORPUS, other))
    assert changed > len(CORPUS) * 0.7


def test_instances_of_a_template_differ() -> None:
    by_template: dict[str, set[tuple[str, str]]] = {}
    for a in CORPUS:
        by_template.setdefault(a.template, set()).add((a.question, a.text))
    assert all(len(v) == sum(a.template == t for a in CORPUS) for t, v in by_template.items())


def test_pauses_stay_inside_the_category_range_and_the_interview_limit() -> None:
    for a in CORPUS:
        assert a.pauses == tuple(s for s in a.segments if isinstance(s, float))
        for p in a.pauses:
            low, high = PAUSE_RANGES[a.category][a.interview]
            assert low <= p <= high <= MAX_PAUSE[a.interview], a.id
            assert round(p, 1) == p, a.id
    assert max(p for a in CORPUS if a.interview == "technical" for p in a.pauses) <= 4.0
    assert max(p for a in CORPUS if a.interview == "research" for p in a.pauses) <= 8.0


@pytest.mark.parametrize(
    ("category", "pauses"),
    [
        ("lead_in", {1}),
        ("needs_complement", {1}),
        ("sentence_then_point", {1}),
        ("self_question", {1}),
        ("list_pauses", {2}),
        ("numbers_names", {0, 1}),
        ("short_complete", {0}),
        ("long_multi_pause", {3, 4}),
        ("question_back", {0, 1}),
    ],
)
def test_each_category_has_its_number_of_pauses(category: str, pauses: set[int]) -> None:
    answers = [a for a in CORPUS if a.category == category]
    assert {len(a.pauses) for a in answers} <= pauses
    assert all(isinstance(s, str) for a in answers for s in (a.segments[0], a.segments[-1]))


def test_category_shapes() -> None:
    by = {c: [a for a in CORPUS if a.category == c] for c in CATEGORIES}
    assert all(len(a.segments[0].split()) <= 2 for a in by["lead_in"])  # type: ignore[union-attr]
    assert all(str(a.segments[0]).endswith("?") for a in by["self_question"])
    assert all(not str(a.segments[0]).endswith((".", "?", "!")) for a in by["needs_complement"])
    assert all(str(a.segments[0]).endswith(".") for a in by["sentence_then_point"])
    assert all(len(a.text.split()) <= 6 for a in by["short_complete"])
    assert all(len(a.text.split()) >= 30 for a in by["long_multi_pause"])
    # a number, spelled letters, an acronym or a name inside the sentence
    assert all(re.search(r"\d|[A-Z]-[A-Z]|[A-Z]{2}|(?<![.?!]) [A-Z][a-z]", a.text) for a in by["numbers_names"])
    research = {a.category for a in CORPUS if a.interview == "research"}
    assert "sentence_then_point" in research
    assert sum(a.interview == "research" for a in by["sentence_then_point"]) > len(by["sentence_then_point"]) / 2


def test_handover_marks_questions_back_and_closings() -> None:
    assert all(a.handover and a.text.endswith("?") for a in CORPUS if a.category == "question_back")
    for a in CORPUS:
        closes = a.text.endswith("?") or re.search(r"that's (it|everything)\.$", a.text, re.I) is not None
        assert a.handover == closes, a.id
    assert any(a.handover for a in CORPUS if a.category == "short_complete")
    assert any(not a.handover for a in CORPUS if a.category == "short_complete")


def test_text_is_speakable_and_questions_are_questions() -> None:
    for a in CORPUS:
        assert a.question.endswith("?") and a.question[0].isupper(), a.id
        assert re.search(r"\b(my|our|I)\b", a.question) is None, a.id  # the interviewer's words, not the candidate's
        assert "{" not in a.question + a.text, a.id
        assert SPEAKABLE.fullmatch(a.question) and SPEAKABLE.fullmatch(a.text), a.id
        assert a.text[0].isupper() and a.text.endswith((".", "?")), a.id
        assert re.search(r"[.?!] [a-z]", a.text) is None, a.id  # every sentence starts with a capital


def test_prefixes_end_at_each_pause_and_only_the_last_is_finished() -> None:
    answer = CorpusAnswer(
        id="x-t01-1",
        category="list_pauses",
        interview="technical",
        template="x-t01",
        question="Why?",
        segments=("First,", 1.0, "second,", 2.0, "and third."),
        style="brisk",
        half="dev",
        handover=False,
    )
    assert answer.text == "First, second, and third."
    assert answer.prefixes() == [("First,", False), ("First, second,", False), ("First, second, and third.", True)]
    for a in CORPUS:
        labels = a.prefixes()
        assert [done for _, done in labels] == [False] * len(a.pauses) + [True]
        assert labels[-1][0] == a.text
        assert all(a.text.startswith(prefix) and prefix != a.text for prefix, _ in labels[:-1])


def test_the_candidate_script_loader_reads_it(tmp_path: Path) -> None:
    answers = split(CORPUS, "test")
    path = tmp_path / "test_half.yaml"
    path.write_text(yaml.safe_dump(as_candidate_script(answers, think_pause=0.5)), encoding="utf-8")
    script = load_candidate_script(path)
    assert len(script.answers) == len(answers)
    for parsed, answer in zip(script.answers, answers):
        assert parsed.think_pause == 0.5
        assert parsed.text == answer.text
        assert tuple(s.text if isinstance(s, Say) else s.seconds for s in parsed.segments) == answer.segments
        assert all(isinstance(s, Say | Pause) for s in parsed.segments)


def test_brisk_is_a_faster_delivery_than_measured() -> None:
    from scripts.candidate_voice import MEASURED, candidate_synthesizer, default_candidate_synthesizer

    measured, brisk = candidate_synthesizer("measured"), candidate_synthesizer("brisk")
    assert measured is default_candidate_synthesizer() and candidate_synthesizer("brisk") is brisk
    assert measured._delivery == MEASURED
    sentence = "I would keep the ledger in Postgres."
    # ~0.8 of the length (0.75-0.86 over runs: the delivery varies at random)
    assert len(brisk.synthesize(sentence, 16000)) < 0.92 * len(measured.synthesize(sentence, 16000))
    with pytest.raises(ValueError, match="unknown delivery"):
        candidate_synthesizer("mumbled")
