"""PromptBuilder: every section comes from the config, prompts are short, cacheable and reproducible."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
import yaml

from interview.config import InterviewConfig
from interview.loader import BUNDLED_CONFIGS_DIR, load_interview_config
from interview.prompts import Prompt, PromptBuilder, SessionDetails, word_count

EXAMPLES = ["senior_backend_engineer", "qualitative_research"]
TOOL_NAMES = [
    "transition_section",
    "score_answer",
    "flag_followup",
    "query_knowledge",
    "check_time_remaining",
    "end_interview",
]
FULL_SESSION = SessionDetails(
    candidate_name="Jane Doe",
    session_id="sess-42",
    started_at_iso="2025-01-01T09:30:00Z",
    resume_note="the call dropped during the second phase; continue from there.",
)


def example_data(name: str = "senior_backend_engineer") -> dict[str, Any]:
    return yaml.safe_load((BUNDLED_CONFIGS_DIR / f"{name}.yaml").read_text(encoding="utf-8"))


def build(data: dict[str, Any]) -> PromptBuilder:
    return PromptBuilder(InterviewConfig.model_validate(data))


def interviewer_text(data: dict[str, Any]) -> str:
    return build(data).interviewer_prompt().static_prefix


def all_builders() -> list[PromptBuilder]:
    return [PromptBuilder(load_interview_config(name)) for name in EXAMPLES]


# --- sections are driven by the config -------------------------------------------------


def test_identity_follows_config() -> None:
    data = example_data()
    before = interviewer_text(data)
    data.update(role="Staff Data Engineer", interviewer_name="Morgan")
    data["company"].update(name="Acme Rockets", description="We build rockets.")
    after = interviewer_text(data)
    for new in ("Staff Data Engineer", "Morgan", "Acme Rockets"):
        assert new in after and new not in before
    for old in ("Senior Backend Engineer", "Alex", "Northwind Labs"):
        assert old in before and old not in after


def test_role_context_follows_config() -> None:
    data = example_data()
    data["level"] = "principal"
    data["company"]["description"] = "Acme builds reusable rockets."
    data["company"]["values"] = ["Fly safe", "Land softly"]
    text = interviewer_text(data)
    assert "principal" in text
    assert "Acme builds reusable rockets." in text
    assert "Fly safe" in text and "Land softly" in text
    assert "Own the outcome" not in text


def test_structure_follows_phase_ids_names_and_durations() -> None:
    data = example_data()
    data["phases"][0].update(id="warm_up", name="Friendly warm up", duration_seconds=120)
    data["phases"][1].update(id="architecture", name="Architecture deep dive", duration_seconds=1500)
    data["phases"][1]["prompt_suffix"] = "Focus on the storage layer."
    data["duration_minutes"] = 50
    text = interviewer_text(data)
    assert "Friendly warm up [warm_up], 2 min." in text
    assert "Architecture deep dive [architecture], 25 min." in text
    assert "Focus on the storage layer." in text
    assert "50 minutes" in text
    assert "[introduction]" not in text and "[system_design]" not in text
    assert text.index("[warm_up]") < text.index("[architecture]") < text.index("[coding]")


def test_structure_lists_every_question_and_follow_up() -> None:
    for builder in all_builders():
        text = builder.interviewer_prompt().text
        for phase in builder.config.phases:
            assert phase.id in text and phase.name in text
            for question in phase.questions:
                assert question.text in text
                assert not question.follow_up or question.follow_up in text


def test_behavioural_guidelines_present() -> None:
    text = PromptBuilder(load_interview_config("senior_backend_engineer")).interviewer_prompt().text
    for phrase in (
        "one question at a time",
        "text-to-speech",
        "no markdown, lists or emoji",
        "If interrupted, yield to the candidate and respond to what they said; do not repeat yourself unless asked.",
        "Probe a vague answer with up to one follow-up",
        "Never reveal scores",
        "neutral and inclusive",
    ):
        assert phrase in text


def test_follow_up_limit_follows_config() -> None:
    data = example_data()
    data["follow_ups"]["max_per_question"] = 2
    assert "up to two follow-ups" in interviewer_text(data)
    data["follow_ups"]["max_per_question"] = 0
    text = interviewer_text(data)
    assert "Do not ask follow-ups" in text and "Probe a vague answer" not in text


def test_person_wording_follows_interview_type() -> None:
    research = PromptBuilder(load_interview_config("qualitative_research")).interviewer_prompt().text
    assert "participant" in research and "user researcher" in research
    assert "candidate" not in research.lower()


@pytest.mark.parametrize("builder", all_builders(), ids=EXAMPLES)
def test_tool_instructions_name_every_tool(builder: PromptBuilder) -> None:
    text = builder.interviewer_prompt().text
    for name in TOOL_NAMES:
        assert f"{name}:" in text


def test_no_rubric_drops_score_instructions() -> None:
    data = example_data()
    data["rubric"] = []
    for phase in data["phases"]:
        for question in phase["questions"]:
            question["rubric_areas"] = []
    builder = build(data)
    assert "score_answer" not in builder.interviewer_prompt().text
    evaluator = builder.evaluator_prompt().text
    assert "no rubric areas" in evaluator
    assert '"areas": {}' in evaluator


# --- size, caching, reproducibility ----------------------------------------------------


@pytest.mark.parametrize("builder", all_builders(), ids=EXAMPLES)
@pytest.mark.parametrize("session", [None, FULL_SESSION], ids=["no-session", "full-session"])
def test_interviewer_prompt_under_500_words(builder: PromptBuilder, session: SessionDetails | None) -> None:
    assert word_count(builder.interviewer_prompt(session).text) < 500


@pytest.mark.parametrize("name", EXAMPLES)
def test_prompts_are_byte_identical_for_the_same_config(name: str) -> None:
    first, second = PromptBuilder(load_interview_config(name)), PromptBuilder(load_interview_config(name))
    assert first.interviewer_prompt(FULL_SESSION) == second.interviewer_prompt(FULL_SESSION)
    assert first.coach_prompt(FULL_SESSION) == second.coach_prompt(FULL_SESSION)
    assert first.evaluator_prompt() == second.evaluator_prompt()
    assert first.interviewer_prompt().text.encode() == second.interviewer_prompt().text.encode()


@pytest.mark.parametrize("method", ["interviewer_prompt", "coach_prompt"])
def test_static_prefix_is_shared_and_suffix_is_per_session(method: str) -> None:
    builder = PromptBuilder(load_interview_config("senior_backend_engineer"))
    other = SessionDetails(candidate_name="Ravi", session_id="sess-7", started_at_iso="2025-02-02T14:00:00Z")
    prompts: list[Prompt] = [getattr(builder, method)(s) for s in (None, FULL_SESSION, other)]
    assert len({p.static_prefix for p in prompts}) == 1
    assert len({p.session_suffix for p in prompts}) == 3
    for prompt in prompts:
        assert prompt.text == prompt.static_prefix + prompt.session_suffix
    full = prompts[1]
    for value in ("Jane Doe", "sess-42", "2025-01-01T09:30:00Z", "the call dropped during the second phase"):
        assert value in full.session_suffix and value not in full.static_prefix


def test_config_candidate_name_is_a_session_fallback() -> None:
    data = example_data()
    data["candidate_name"] = "Priya"
    builder = build(data)
    default = builder.interviewer_prompt()
    assert "Priya" in default.session_suffix and "Priya" not in default.static_prefix
    assert "Jane Doe" in builder.interviewer_prompt(FULL_SESSION).session_suffix
    plain = PromptBuilder(load_interview_config("senior_backend_engineer"))
    assert default.static_prefix == plain.interviewer_prompt().static_prefix


def test_prompt_is_frozen() -> None:
    prompt = PromptBuilder(load_interview_config("qualitative_research")).interviewer_prompt()
    with pytest.raises(AttributeError):
        prompt.static_prefix = "x"  # type: ignore[misc]


# --- anchors only where they belong ----------------------------------------------------


@pytest.mark.parametrize("builder", all_builders(), ids=EXAMPLES)
def test_interviewer_and_coach_prompts_have_no_anchors(builder: PromptBuilder) -> None:
    for text in (builder.interviewer_prompt(FULL_SESSION).text, builder.coach_prompt(FULL_SESSION).text):
        for area in builder.config.rubric:
            for anchor in area.anchors:
                assert anchor.example_answer not in text
                assert anchor.description not in text


@pytest.mark.parametrize("builder", all_builders(), ids=EXAMPLES)
def test_evaluator_contains_rubric_and_every_anchor(builder: PromptBuilder) -> None:
    prompt = builder.evaluator_prompt()
    text = prompt.text
    assert prompt.session_suffix == ""
    scale = builder.config.score_scale
    assert f"from {scale.minimum} (weakest) to {scale.maximum} (strongest)" in text
    for area in builder.config.rubric:
        assert f"Area {area.id} ({area.name}), weight {area.weight:g}: {area.description}" in text
        for anchor in area.anchors:
            assert f"Score {anchor.score}: {anchor.description}" in text
            assert f'Example answer: "{anchor.example_answer}"' in text


@pytest.mark.parametrize("builder", all_builders(), ids=EXAMPLES)
def test_evaluator_output_contract_is_json_with_every_area(builder: PromptBuilder) -> None:
    text = builder.evaluator_prompt().text
    start = text.index("exactly this shape:\n") + len("exactly this shape:\n")
    shape = json.JSONDecoder().raw_decode(text[start:])[0]
    assert list(shape["areas"]) == builder.config.rubric_area_ids
    for area in shape["areas"].values():
        assert set(area) == {"score", "evidence", "rationale"}
    assert shape["overall"]["recommendation"] == "strong_yes|yes|maybe|no|strong_no"
    assert "confidence" in shape["overall"]
    assert "verbatim" in text


def test_evaluator_bias_rules() -> None:
    text = PromptBuilder(load_interview_config("senior_backend_engineer")).evaluator_prompt().text
    for phrase in (
        "Judge only evidence in the transcript",
        "accent, grammar, filler words",
        "name, gender, age and background",
        "Do not reward length or confident delivery over content",
        "Score each area independently",
        "If there is no evidence for an area, say so",
    ):
        assert phrase in text


def test_evaluator_follows_config() -> None:
    data = copy.deepcopy(example_data())
    data["rubric"][0]["anchors"][0]["example_answer"] = "Just use a bigger server."
    data["role"] = "Platform Engineer"
    text = build(data).evaluator_prompt().text
    assert "Just use a bigger server." in text and "Platform Engineer" in text
    assert "I would use microservices and the cloud" not in text


# --- coach persona ---------------------------------------------------------------------


def test_coach_asks_same_questions_and_gives_feedback() -> None:
    builder = PromptBuilder(load_interview_config("senior_backend_engineer"))
    coach = builder.coach_prompt().text
    assert "practice coach" in coach
    assert "constructive feedback" in coach
    assert "Never reveal scores" not in coach and "never as a number" in coach
    for phase in builder.config.phases:
        for question in phase.questions:
            assert question.text in coach
    assert builder.coach_prompt().static_prefix != builder.interviewer_prompt().static_prefix
