"""Candidate script parsing: the formats people write by hand, and clear errors when they slip."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts.candidate_script import (
    DEFAULT_FALLBACK_ANSWER,
    Answer,
    CandidateScriptError,
    Pause,
    Say,
    load_candidate_script,
    parse_candidate_script,
)

REPO = Path(__file__).resolve().parents[2]
SHIPPED = sorted((REPO / "scripts" / "candidates").glob("*.yaml"))


def test_plain_strings_become_single_segment_answers() -> None:
    script = parse_candidate_script({"answers": ["  Hello   there. ", "Second answer."]})
    assert script.answers == (
        Answer(segments=(Say("Hello there."),), think_pause=0.6),
        Answer(segments=(Say("Second answer."),), think_pause=0.6),
    )


def test_text_and_segments_with_pauses() -> None:
    script = parse_candidate_script(
        {
            "name": "demo",
            "default_think_pause": 0.3,
            "answers": [
                {"text": "One go.", "think_pause": 1.5},
                {"segments": [{"say": "First part."}, {"pause": 1}, {"say": "Second part."}]},
            ],
        }
    )
    assert script.name == "demo"
    first, second = script.answers
    assert first == Answer(segments=(Say("One go."),), think_pause=1.5)
    assert second.segments == (Say("First part."), Pause(1.0), Say("Second part."))
    assert second.think_pause == 0.3
    assert second.text == "First part. Second part."
    assert second.word_count == 4


def test_running_out_of_answers_falls_back_politely() -> None:
    script = parse_candidate_script({"answers": ["Only one."]})
    assert script.answer_for(0) == (script.answers[0], False)
    fallback, is_fallback = script.answer_for(1)
    assert is_fallback and fallback.text == DEFAULT_FALLBACK_ANSWER
    custom = parse_candidate_script({"answers": ["x"], "fallback_answer": "That is all."})
    assert custom.answer_for(5)[0].text == "That is all."


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (None, "top level: expected a mapping"),
        (["a"], "top level: expected a mapping"),
        ({}, "missing required key 'answers'"),
        ({"answers": []}, "answers: must be a non-empty list"),
        ({"answers": "hello"}, "answers: must be a non-empty list"),
        ({"answer": ["x"]}, "unknown key(s) ['answer']"),
        ({"answers": [42]}, "answers[0]: must be a string or a mapping"),
        ({"answers": ["ok", ""]}, "answers[1]: must be a non-empty string"),
        ({"answers": [{"think_pause": 1}]}, "answers[0]: needs exactly one of 'text' or 'segments'"),
        ({"answers": [{"text": "a", "segments": [{"say": "b"}]}]}, "needs exactly one of"),
        ({"answers": [{"text": "a", "pauses": [1]}]}, "answers[0]: unknown key(s) ['pauses']"),
        ({"answers": [{"text": "a", "think_pause": "long"}]}, "answers[0].think_pause: must be a number"),
        ({"answers": [{"text": "a", "think_pause": -1}]}, "answers[0].think_pause: must be between 0 and"),
        ({"answers": [{"text": "a", "think_pause": True}]}, "must be a number"),
        ({"answers": [{"segments": []}]}, "answers[0].segments: must be a non-empty list"),
        ({"answers": [{"segments": [{"say": "a", "pause": 1}]}]}, "answers[0].segments[0]: each segment"),
        ({"answers": [{"segments": [{"wait": 1}]}]}, "answers[0].segments[0]: each segment"),
        ({"answers": [{"segments": ["just text"]}]}, "answers[0].segments[0]: each segment"),
        ({"answers": [{"segments": [{"pause": 1}]}]}, "must contain at least one 'say' segment"),
        ({"answers": [{"segments": [{"say": "a"}, {"pause": "x"}]}]}, "answers[0].segments[1].pause: must be a number"),
        ({"answers": ["a"], "fallback_answer": ""}, "fallback_answer: must be a non-empty string"),
        ({"answers": ["a"], "default_think_pause": 999}, "default_think_pause: must be between"),
    ],
)
def test_bad_scripts_name_the_item_at_fault(data: object, message: str) -> None:
    with pytest.raises(CandidateScriptError) as info:
        parse_candidate_script(data, source="bad.yaml")
    assert str(info.value).startswith("bad.yaml: ")
    assert message in str(info.value)


def test_load_reports_missing_file_and_bad_yaml(tmp_path: Path) -> None:
    with pytest.raises(CandidateScriptError, match="cannot read candidate script"):
        load_candidate_script(tmp_path / "missing.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("answers: [unclosed\n")
    with pytest.raises(CandidateScriptError, match=r"broken\.yaml: not valid YAML"):
        load_candidate_script(broken)


def test_load_from_file(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("answers:\n  - Hello.\n  - segments:\n      - say: A.\n      - pause: 0.5\n      - say: B.\n")
    script = load_candidate_script(path)
    assert script.source == str(path)
    assert script.answers[1].segments == (Say("A."), Pause(0.5), Say("B."))


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_scripts_are_valid_and_recogniser_friendly(path: Path) -> None:
    script = load_candidate_script(path)
    assert len(script.answers) >= 5
    texts = [a.text for a in script.answers]
    assert not any(ch.isdigit() for t in texts for ch in t), "spell numbers out for the recogniser"
    # at least one short answer, so the interviewer's follow-up rule gets exercised
    assert any(a.word_count < 12 for a in script.answers)
    assert any(any(isinstance(s, Pause) for s in a.segments) for a in script.answers)


def test_both_interview_configs_have_a_candidate() -> None:
    assert {p.stem for p in SHIPPED} >= {"senior_backend_engineer", "qualitative_research"}
