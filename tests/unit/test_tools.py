"""Tool definitions derived from config, and handlers that validate before they touch state."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from interview.config import InterviewConfig
from interview.loader import BUNDLED_CONFIGS_DIR, load_interview_config
from interview.state import InterviewState
from interview.tools import (
    CHECK_TIME_REMAINING,
    END_INTERVIEW,
    FLAG_FOLLOWUP,
    QUERY_KNOWLEDGE,
    SCORE_ANSWER,
    TRANSITION_SECTION,
    InterviewToolHandlers,
    ToolDefinition,
    ToolResult,
    build_tool_definitions,
    find_fact,
)

SENIOR = load_interview_config("senior_backend_engineer")
RESEARCH = load_interview_config("qualitative_research")
ALL_TOOLS = [TRANSITION_SECTION, SCORE_ANSWER, FLAG_FOLLOWUP, QUERY_KNOWLEDGE, CHECK_TIME_REMAINING, END_INTERVIEW]


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def make(config: InterviewConfig = SENIOR) -> tuple[InterviewToolHandlers, InterviewState, FakeClock]:
    clock = FakeClock()
    state = InterviewState.start(config, clock())
    return InterviewToolHandlers(config, state, clock=clock), state, clock


def no_rubric_config() -> InterviewConfig:
    data = yaml.safe_load((BUNDLED_CONFIGS_DIR / "senior_backend_engineer.yaml").read_text(encoding="utf-8"))
    data["rubric"] = []
    for phase in data["phases"]:
        for question in phase["questions"]:
            question["rubric_areas"] = []
    return InterviewConfig.model_validate(data)


def by_name(definitions: list[ToolDefinition]) -> dict[str, ToolDefinition]:
    return {d.name: d for d in definitions}


# --- definitions -------------------------------------------------------------------------


def test_definitions_cover_every_tool() -> None:
    assert [d.name for d in build_tool_definitions(SENIOR)] == ALL_TOOLS


@pytest.mark.parametrize("config", [SENIOR, RESEARCH], ids=["senior", "research"])
def test_enums_and_ranges_come_from_config(config: InterviewConfig) -> None:
    tools = by_name(build_tool_definitions(config))
    assert tools[TRANSITION_SECTION].properties["phase_id"]["enum"] == config.phase_ids
    assert tools[TRANSITION_SECTION].required == ["phase_id", "reason"]
    score = tools[SCORE_ANSWER].properties
    assert score["rubric_area"]["enum"] == config.rubric_area_ids
    assert (score["score"]["minimum"], score["score"]["maximum"]) == (
        config.score_scale.minimum,
        config.score_scale.maximum,
    )
    assert score["score"]["type"] == "integer"
    assert tools[SCORE_ANSWER].required == ["rubric_area", "score", "evidence"]
    assert tools[FLAG_FOLLOWUP].properties["rubric_area"]["enum"] == config.rubric_area_ids
    assert tools[FLAG_FOLLOWUP].required == ["reason"]
    assert tools[QUERY_KNOWLEDGE].required == ["topic"]
    assert tools[CHECK_TIME_REMAINING].properties == {} and tools[CHECK_TIME_REMAINING].required == []
    assert tools[END_INTERVIEW].required == ["reason"]


def test_research_scale_is_one_to_five() -> None:
    score = by_name(build_tool_definitions(RESEARCH))[SCORE_ANSWER].properties["score"]
    assert (score["minimum"], score["maximum"]) == (1, 5)


def test_no_rubric_means_no_score_tool_and_no_empty_enums() -> None:
    definitions = build_tool_definitions(no_rubric_config())
    tools = by_name(definitions)
    assert SCORE_ANSWER not in tools
    assert set(tools[FLAG_FOLLOWUP].properties) == {"reason"}
    for definition in definitions:
        for schema in definition.properties.values():
            assert schema.get("enum", ["non-empty"]), f"{definition.name} has an empty enum"


def test_definitions_are_plain_json_data() -> None:
    for definition in build_tool_definitions(SENIOR):
        schema = {"type": "object", "properties": definition.properties, "required": definition.required}
        json.dumps({"name": definition.name, "description": definition.description, "parameters": schema})
        assert set(definition.required) <= set(definition.properties)


def test_no_rubric_handlers_reject_score_and_area() -> None:
    handlers, state, _ = make(no_rubric_config())
    before = state.snapshot()
    assert not handlers.handle(SCORE_ANSWER, {"rubric_area": "x", "score": 5, "evidence": "e"}).ok
    assert not handlers.handle(FLAG_FOLLOWUP, {"reason": "vague", "rubric_area": "x"}).ok
    assert state.snapshot() == before
    assert handlers.handle(FLAG_FOLLOWUP, {"reason": "vague"}).ok


# --- valid calls -------------------------------------------------------------------------


def test_transition_to_next_phase() -> None:
    handlers, state, clock = make()
    clock.now += 90
    result = handlers.handle(TRANSITION_SECTION, {"phase_id": "system_design", "reason": "intro done"})
    assert result.ok and not result.end_session
    assert result.event == {
        "type": "phase_transition",
        "from": "introduction",
        "to": "system_design",
        "reason": "intro done",
        "seconds_in_phase": 90.0,
    }
    assert "system_design" in result.text
    assert state.current_phase == "system_design" and state.phase_started_at == clock.now
    assert [v.phase_id for v in state.phase_history] == ["introduction", "system_design"]


def test_walk_through_every_phase_then_end() -> None:
    handlers, state, clock = make()
    for phase_id in SENIOR.phase_ids[1:]:
        clock.now += 60
        assert handlers.handle(TRANSITION_SECTION, {"phase_id": phase_id, "reason": "next"}).ok
    last = SENIOR.phase_ids[-1]
    rejected = handlers.handle(TRANSITION_SECTION, {"phase_id": last, "reason": "again"})
    assert not rejected.ok and "already in" in rejected.text
    result = handlers.handle(END_INTERVIEW, {"reason": "all phases done"})
    assert result.ok and result.end_session
    assert "closing words are being spoken" in result.text
    assert result.event is not None and result.event["completed_all_phases"] is True
    assert state.ended and state.end_reason == "all phases done"


@pytest.mark.parametrize("score", [SENIOR.score_scale.minimum, 6, SENIOR.score_scale.maximum])
def test_score_answer_records_in_current_phase(score: int) -> None:
    handlers, state, clock = make()
    result = handlers.handle(SCORE_ANSWER, {"rubric_area": "communication", "score": score, "evidence": " I lead it "})
    assert result.ok and result.text == "Score recorded."
    assert result.event == {
        "type": "score",
        "rubric_area": "communication",
        "score": score,
        "evidence": "I lead it",
        "phase": "introduction",
    }
    assert [(s.rubric_area, s.score, s.phase, s.at) for s in state.scores] == [
        ("communication", score, "introduction", clock.now)
    ]


@pytest.mark.parametrize("area", ["system_design", None, "absent"])
def test_flag_followup_with_and_without_area(area: str | None) -> None:
    handlers, state, _ = make()
    arguments: dict[str, Any] = {"reason": "no detail on retries"}
    if area != "absent":
        arguments["rubric_area"] = area
    result = handlers.handle(FLAG_FOLLOWUP, arguments)
    assert result.ok
    expected_area = None if area == "absent" else area
    assert result.event == {
        "type": "follow_up_flag",
        "reason": "no detail on retries",
        "rubric_area": expected_area,
        "phase": "introduction",
    }
    assert [(f.reason, f.rubric_area) for f in state.follow_ups] == [("no detail on retries", expected_area)]


@pytest.mark.parametrize(
    ("topic", "key"),
    [
        ("What is the on-call rotation like?", "on call"),
        ("tech stack", "stack"),
        ("Do you work remotely?", "remote"),
        ("What are the next steps in the process?", "process"),
        ("How big is the team?", "team"),
    ],
)
def test_query_knowledge_finds_the_best_fact(topic: str, key: str) -> None:
    handlers, state, _ = make()
    before = state.snapshot()
    result = handlers.handle(QUERY_KNOWLEDGE, {"topic": topic})
    assert result.ok and result.text == SENIOR.company.facts[key]
    assert result.event == {"type": "knowledge_query", "topic": topic, "matched": key}
    assert state.snapshot() == before


def test_query_knowledge_says_when_nothing_is_known() -> None:
    handlers, _, _ = make(RESEARCH)
    result = handlers.handle(QUERY_KNOWLEDGE, {"topic": "salary bands"})
    assert result.ok and result.text.startswith('Nothing is known about "salary bands"')
    assert result.event is not None and result.event["matched"] is None


def test_find_fact_ties_go_to_config_order() -> None:
    facts = {"alpha": "shared word", "beta": "shared word"}
    assert find_fact(facts, "shared") == ("alpha", "shared word")
    assert find_fact(facts, "the and of") is None
    assert find_fact({}, "anything") is None


def test_check_time_remaining() -> None:
    handlers, _state, clock = make()
    clock.now += 120
    result = handlers.handle(CHECK_TIME_REMAINING, {})
    assert result.ok
    assert result.event == {
        "type": "time_check",
        "phase": "introduction",
        "phase_seconds_left": 180.0,
        "interview_seconds_left": 45 * 60 - 120.0,
    }
    assert "3 minutes left" in result.text and "43 minutes left" in result.text
    assert "Next phase: system_design." in result.text
    clock.now += 600
    assert "over time" in handlers.handle(CHECK_TIME_REMAINING, {}).text


def test_check_time_in_last_phase() -> None:
    handlers, _, _ = make(RESEARCH)
    for phase_id in RESEARCH.phase_ids[1:]:
        assert handlers.handle(TRANSITION_SECTION, {"phase_id": phase_id, "reason": "next"}).ok
    assert "This is the last phase." in handlers.handle(CHECK_TIME_REMAINING, {}).text


def test_end_interview_early_is_allowed_and_recorded() -> None:
    handlers, state, clock = make()
    clock.now += 30
    result = handlers.handle(END_INTERVIEW, {"reason": "candidate asked to stop"})
    assert result.ok and result.end_session
    assert result.event == {
        "type": "interview_ended",
        "reason": "candidate asked to stop",
        "phase": "introduction",
        "completed_all_phases": False,
        "elapsed_seconds": 30.0,
    }
    assert state.ended and state.ended_at == clock.now


def test_after_the_end_only_time_checks_work() -> None:
    handlers, state, _ = make()
    handlers.handle(END_INTERVIEW, {"reason": "done"})
    before = state.snapshot()
    for name, arguments in [
        (END_INTERVIEW, {"reason": "again"}),
        (TRANSITION_SECTION, {"phase_id": "system_design", "reason": "late"}),
        (SCORE_ANSWER, {"rubric_area": "communication", "score": 5, "evidence": "x"}),
        (FLAG_FOLLOWUP, {"reason": "late"}),
        (QUERY_KNOWLEDGE, {"topic": "team"}),
    ]:
        result = handlers.handle(name, arguments)
        assert not result.ok and "already ended" in result.text
    assert handlers.handle(CHECK_TIME_REMAINING, {}).ok
    assert state.snapshot() == before


# --- rejected calls ----------------------------------------------------------------------

GOOD_SCORE = {"rubric_area": "communication", "score": 5, "evidence": "I lead the ledger service"}

INVALID_CALLS: list[tuple[str, Any, Any, str]] = [
    ("unknown tool", "hang_up", {}, "unknown tool"),
    ("non-string tool name", 42, {}, "unknown tool"),
    ("arguments not an object", TRANSITION_SECTION, ["system_design"], "must be an object"),
    ("arguments missing", END_INTERVIEW, None, "must be an object"),
    ("unknown phase", TRANSITION_SECTION, {"phase_id": "lunch", "reason": "x"}, "phase_id must be one of"),
    ("skip ahead", TRANSITION_SECTION, {"phase_id": "coding", "reason": "x"}, "only the next phase, system_design"),
    ("same phase", TRANSITION_SECTION, {"phase_id": "introduction", "reason": "x"}, "already in phase introduction"),
    ("transition missing reason", TRANSITION_SECTION, {"phase_id": "system_design"}, "missing argument(s): reason"),
    ("transition empty reason", TRANSITION_SECTION, {"phase_id": "system_design", "reason": "  "}, "reason must not"),
    ("transition extra arg", TRANSITION_SECTION, {"phase_id": "system_design", "reason": "x", "force": True}, "force"),
    ("transition mistyped", TRANSITION_SECTION, {"phase_id": 2, "reason": "x"}, "phase_id must be a string"),
    ("score above scale", SCORE_ANSWER, {**GOOD_SCORE, "score": 11}, "score must be from 1 to 10"),
    ("score below scale", SCORE_ANSWER, {**GOOD_SCORE, "score": 0}, "score must be from 1 to 10"),
    ("score as float", SCORE_ANSWER, {**GOOD_SCORE, "score": 5.5}, "score must be an integer"),
    ("score as bool", SCORE_ANSWER, {**GOOD_SCORE, "score": True}, "score must be an integer"),
    ("score as string", SCORE_ANSWER, {**GOOD_SCORE, "score": "5"}, "score must be an integer"),
    ("score null", SCORE_ANSWER, {**GOOD_SCORE, "score": None}, "score must be an integer"),
    ("empty evidence", SCORE_ANSWER, {**GOOD_SCORE, "evidence": ""}, "evidence must not be empty"),
    ("blank evidence", SCORE_ANSWER, {**GOOD_SCORE, "evidence": " \n"}, "evidence must not be empty"),
    ("unknown area", SCORE_ANSWER, {**GOOD_SCORE, "rubric_area": "charisma"}, "rubric_area must be one of"),
    ("score missing evidence", SCORE_ANSWER, {"rubric_area": "communication", "score": 5}, "evidence"),
    ("score extra arg", SCORE_ANSWER, {**GOOD_SCORE, "weight": 1}, "unexpected argument(s): weight"),
    ("flag missing reason", FLAG_FOLLOWUP, {"rubric_area": "communication"}, "missing argument(s): reason"),
    ("flag unknown area", FLAG_FOLLOWUP, {"reason": "x", "rubric_area": "charisma"}, "rubric_area must be one of"),
    ("flag mistyped area", FLAG_FOLLOWUP, {"reason": "x", "rubric_area": 3}, "rubric_area must be a string"),
    ("query empty topic", QUERY_KNOWLEDGE, {"topic": ""}, "topic must not be empty"),
    ("query mistyped topic", QUERY_KNOWLEDGE, {"topic": ["team"]}, "topic must be a string"),
    ("query missing topic", QUERY_KNOWLEDGE, {}, "missing argument(s): topic"),
    ("time check extra arg", CHECK_TIME_REMAINING, {"phase": "introduction"}, "unexpected argument(s): phase"),
    ("end missing reason", END_INTERVIEW, {}, "missing argument(s): reason"),
    ("end empty reason", END_INTERVIEW, {"reason": ""}, "reason must not be empty"),
    ("end extra arg", END_INTERVIEW, {"reason": "done", "now": True}, "unexpected argument(s): now"),
]


def assert_rejected(result: ToolResult, fragment: str) -> None:
    assert isinstance(result, ToolResult)
    assert not result.ok and not result.end_session
    assert fragment in result.text
    assert result.event is not None and result.event["type"] == "tool_rejected"
    assert len(result.text) < 250


@pytest.mark.parametrize(
    ("name", "arguments", "fragment"), [c[1:] for c in INVALID_CALLS], ids=[c[0] for c in INVALID_CALLS]
)
def test_invalid_call_is_rejected_and_state_unchanged(name: Any, arguments: Any, fragment: str) -> None:
    handlers, state, clock = make()
    before = state.snapshot()
    clock.now += 5
    assert_rejected(handlers.handle(name, arguments), fragment)
    assert state.snapshot() == before


def test_going_backwards_is_rejected() -> None:
    handlers, state, _ = make()
    assert handlers.handle(TRANSITION_SECTION, {"phase_id": "system_design", "reason": "next"}).ok
    assert handlers.handle(TRANSITION_SECTION, {"phase_id": "coding", "reason": "next"}).ok
    before = state.snapshot()
    result = handlers.handle(TRANSITION_SECTION, {"phase_id": "introduction", "reason": "back"})
    assert_rejected(result, "only the next phase, candidate_questions, can follow coding")
    assert state.snapshot() == before


def test_transition_from_the_last_phase_is_rejected() -> None:
    handlers, state, _ = make(RESEARCH)
    for phase_id in RESEARCH.phase_ids[1:]:
        handlers.handle(TRANSITION_SECTION, {"phase_id": phase_id, "reason": "next"})
    before = state.snapshot()
    assert_rejected(handlers.handle(TRANSITION_SECTION, {"phase_id": "rapport", "reason": "x"}), "last phase")
    assert state.snapshot() == before


def test_research_scale_rejects_six() -> None:
    handlers, state, _ = make(RESEARCH)
    before = state.snapshot()
    result = handlers.handle(SCORE_ANSWER, {"rubric_area": "pain_points", "score": 6, "evidence": "late fee"})
    assert_rejected(result, "score must be from 1 to 5")
    assert state.snapshot() == before


# --- property-based: random calls never raise, and rejections never change state ---------

ARGUMENT_NAMES = sorted({key for d in build_tool_definitions(SENIOR) for key in d.properties})
JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(SENIOR.phase_ids + SENIOR.rubric_area_ids + ["", " "]),
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)),
    max_leaves=6,
)
ARGUMENTS = st.one_of(
    st.dictionaries(st.one_of(st.sampled_from(ARGUMENT_NAMES), st.text(max_size=8)), JSON_VALUES, max_size=5),
    JSON_VALUES,
)
TOOL_NAMES = st.one_of(st.sampled_from(ALL_TOOLS), st.text(max_size=15), st.none(), st.integers())


@settings(max_examples=400, deadline=None)
@given(calls=st.lists(st.tuples(TOOL_NAMES, ARGUMENTS), min_size=1, max_size=6), config_index=st.integers(0, 1))
def test_random_calls_never_raise_and_rejections_keep_state(calls: list[tuple[Any, Any]], config_index: int) -> None:
    config = [SENIOR, RESEARCH][config_index]
    handlers, state, clock = make(config)
    for name, arguments in calls:
        before = state.snapshot()
        clock.now += 1.5
        result = handlers.handle(name, arguments)
        assert isinstance(result, ToolResult) and isinstance(result.text, str) and result.text
        if not result.ok:
            assert state.snapshot() == before
            assert result.event is not None and result.event["type"] == "tool_rejected"
        json.dumps(result.event)
        InterviewState.restore(state.snapshot(), config)  # whatever happened, the state stays valid
