"""InterviewState: clocks, mutations, and snapshot/restore that rejects corrupt data by field."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from interview.config import InterviewConfig
from interview.loader import load_interview_config
from interview.state import InterviewState, StateError


@pytest.fixture
def config() -> InterviewConfig:
    return load_interview_config("senior_backend_engineer")


@pytest.fixture
def busy_state(config: InterviewConfig) -> InterviewState:
    """A state that has been through every kind of mutation."""
    state = InterviewState.start(config, now=100.0)
    state.add_score("communication", 6, "I lead the ledger service", now=150.0)
    state.add_follow_up("vague about ownership", "communication", now=160.0)
    state.enter_phase("system_design", now=400.0)
    state.add_follow_up("no failure handling", None, now=500.0)
    state.add_flag("user_idle", "25 seconds of silence", now=550.0)
    state.end("candidate asked to stop", now=700.0)
    return state


def test_start_enters_first_phase(config: InterviewConfig) -> None:
    state = InterviewState.start(config, now=10.0)
    assert state.interview_id == config.id
    assert state.current_phase == config.phase_ids[0]
    assert state.started_at == state.phase_started_at == 10.0
    assert [(v.phase_id, v.entered_at, v.left_at) for v in state.phase_history] == [("introduction", 10.0, None)]
    assert not state.ended and state.end_reason is None
    assert state.scores == [] and state.follow_ups == [] and state.flags == []


def test_clocks(config: InterviewConfig) -> None:
    state = InterviewState.start(config, now=10.0)
    assert state.elapsed(70.0) == 60.0 and state.time_in_phase(70.0) == 60.0
    state.enter_phase("system_design", now=100.0)
    assert state.elapsed(130.0) == 120.0 and state.time_in_phase(130.0) == 30.0
    assert state.phase_history[0].left_at == 100.0
    assert state.time_in_phase(50.0) == 0.0  # a clock reading before the phase began is not negative


def test_clocks_stop_when_ended(config: InterviewConfig) -> None:
    state = InterviewState.start(config, now=0.0)
    state.end("done", now=300.0)
    assert state.elapsed(10_000.0) == 300.0 and state.time_in_phase(10_000.0) == 300.0
    assert state.ended and state.end_reason == "done" and state.phase_history[-1].left_at == 300.0


def test_records_carry_current_phase(busy_state: InterviewState) -> None:
    assert [s.phase for s in busy_state.scores] == ["introduction"]
    assert [f.phase for f in busy_state.follow_ups] == ["introduction", "system_design"]
    assert busy_state.flags[0].phase == "system_design"


def test_snapshot_round_trip_through_json(busy_state: InterviewState, config: InterviewConfig) -> None:
    snapshot = busy_state.snapshot()
    text = json.dumps(snapshot, allow_nan=False)
    restored = InterviewState.restore(json.loads(text), config)
    assert restored == busy_state
    assert restored.snapshot() == snapshot


def test_fresh_state_round_trip(config: InterviewConfig) -> None:
    state = InterviewState.start(config, now=0.0)
    assert InterviewState.restore(json.loads(json.dumps(state.snapshot()))) == state


def test_snapshot_is_a_copy(busy_state: InterviewState) -> None:
    snapshot = busy_state.snapshot()
    snapshot["scores"].clear()
    snapshot["current_phase"] = "coding"
    assert len(busy_state.scores) == 1 and busy_state.current_phase == "system_design"


def test_restored_state_keeps_working(busy_state: InterviewState, config: InterviewConfig) -> None:
    state = InterviewState.start(config, now=0.0)
    restored = InterviewState.restore(state.snapshot(), config)
    restored.enter_phase("system_design", now=60.0)
    assert restored.current_phase == "system_design" and state.current_phase == "introduction"


def _drop(key: str) -> Callable[[dict[str, Any]], None]:
    return lambda data: data.pop(key)


def _put(*path: Any, value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(data: dict[str, Any]) -> None:
        target = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return mutate


BAD_SNAPSHOTS: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "missing field": (_drop("started_at"), "started_at: Field required"),
    "unknown key": (_put("mood", value="happy"), "mood: unknown key"),
    "unknown nested key": (_put("scores", 0, "weight", value=1), "scores.0.weight: unknown key"),
    "string time": (_put("started_at", value="100"), "started_at"),
    "bool score": (_put("scores", 0, "score", value=True), "scores.0.score"),
    "string score": (_put("scores", 0, "score", value="6"), "scores.0.score"),
    "non-bool ended": (_put("ended", value="yes"), "ended"),
    "nan time": (_put("phase_started_at", value=float("nan")), "phase_started_at"),
    "empty evidence": (_put("scores", 0, "evidence", value=""), "scores.0.evidence"),
    "empty history": (_put("phase_history", value=[]), "phase_history"),
    "phase mismatch": (_put("current_phase", value="coding"), "current_phase"),
    "phase start mismatch": (_put("phase_started_at", value=1.0), "phase_started_at"),
    "ended without reason": (_put("end_reason", value=None), "ended"),
    "open earlier visit": (_put("phase_history", 0, "left_at", value=None), "phase_history.0.left_at"),
    "list instead of records": (_put("flags", value="none"), "flags"),
}


@pytest.mark.parametrize("case", sorted(BAD_SNAPSHOTS))
def test_bad_snapshot_names_the_field(case: str, busy_state: InterviewState) -> None:
    mutate, expected = BAD_SNAPSHOTS[case]
    data = copy.deepcopy(busy_state.snapshot())
    mutate(data)
    with pytest.raises(StateError) as info:
        InterviewState.restore(data)
    assert expected in str(info.value)
    assert str(info.value).startswith("interview state:")


@pytest.mark.parametrize("data", [None, [], "state", 3])
def test_non_mapping_snapshot(data: Any) -> None:
    with pytest.raises(StateError, match="expected a mapping"):
        InterviewState.restore(data)


def test_restore_checks_against_config(busy_state: InterviewState, config: InterviewConfig) -> None:
    other = load_interview_config("qualitative_research")
    with pytest.raises(StateError, match="interview_id"):
        InterviewState.restore(busy_state.snapshot(), other)
    data = busy_state.snapshot()
    data["scores"][0]["rubric_area"] = "charisma"
    InterviewState.restore(data)  # structurally fine on its own
    with pytest.raises(StateError, match=r"scores\.0\.rubric_area"):
        InterviewState.restore(data, config)
    data = busy_state.snapshot()
    data["phase_history"][0]["phase_id"] = "lunch"
    with pytest.raises(StateError, match=r"phase_history\.0\.phase_id"):
        InterviewState.restore(data, config)


def test_state_error_is_a_value_error() -> None:
    assert issubclass(StateError, ValueError)
