"""LatencyTracker: stage math, p50/p95, budget failures -> breaker, records and latency.json.

Hours of interview run in milliseconds: every timestamp comes from an injected clock.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pipecat.observers.user_bot_latency_observer import (
    LatencyBreakdown,
    TextAggregationBreakdownMetrics,
    TTFBBreakdownMetrics,
)

from bots.session_record import SessionRecord
from interview.config import LatencyAlerts, LatencyBudget
from latency.circuit_breaker import BreakerState
from latency.report import percentile
from latency.tracker import LatencyTracker
from latency.turn_record import STAGES

WALL_OFFSET = 1_700_000_000.0


class FakeClock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t

    def wall(self) -> float:
        return self.t + WALL_OFFSET


class ListSink:
    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.files: dict[str, dict[str, Any]] = {}

    def event(self, event_type: str, **data: Any) -> None:
        self.events.append((event_type, data))

    def write_json(self, name: str, data: dict[str, Any]) -> Path:
        self.files[name] = json.loads(json.dumps(data))  # must be JSON-serialisable
        return Path(name)

    def of(self, event_type: str) -> list[dict[str, Any]]:
        return [d for e, d in self.events if e == event_type]


@dataclass
class Turn:
    """Seconds each stage takes in one simulated turn."""

    silence: float = 0.2  # VAD stop_secs
    stt: float = 0.05
    detect: float = 0.02
    llm: float = 0.1
    tts: float = 0.03
    transport: float = 0.005
    listener: float | None = 0.04
    speech: float = 3.0
    think: float = 5.0

    @property
    def voice_to_voice_ms(self) -> float:
        return (self.silence + self.stt + self.detect + self.llm + self.tts + self.transport) * 1000


def make_tracker(sink: ListSink | SessionRecord | None = None, **alerts: Any) -> tuple[LatencyTracker, FakeClock]:
    clock = FakeClock()
    tracker = LatencyTracker(
        LatencyBudget(), LatencyAlerts(**alerts), events=sink, vad_stop_secs=0.2, clock=clock, wall_clock=clock.wall
    )
    return tracker, clock


def play(tracker: LatencyTracker, clock: FakeClock, turn: Turn) -> None:
    """One candidate turn and the interviewer's reply, as the probes would report it."""
    clock.t += turn.think
    tracker.vad_user_started()
    tracker.user_turn_started()
    clock.t += turn.speech + turn.silence
    tracker.vad_user_stopped(stop_secs=turn.silence)
    clock.t += turn.stt
    tracker.transcript_final()
    clock.t += turn.detect
    tracker.turn_committed()
    clock.t += turn.llm
    tracker.llm_first_token()
    clock.t += turn.tts
    tracker.tts_first_audio()
    clock.t += turn.transport
    tracker.bot_started_speaking()
    if turn.listener is not None:
        clock.t += turn.listener
        tracker.listener_playback_started()


def test_one_turn_tiles_into_stages() -> None:
    sink = ListSink()
    tracker, clock = make_tracker(sink)
    play(tracker, clock, Turn())
    [record] = sink.of("turn_latency")
    assert record["status"] == "complete" and record["completed_by"] == "listener_mark"
    assert record["stages_ms"] == {
        "endpointing": 220.0,  # 200 ms of silence + 20 ms turn decision after the transcript
        "stt": 50.0,
        "llm_ttfb": 100.0,
        "function_calls": 0.0,
        "text_aggregation": None,  # only known from Pipecat's breakdown
        "tts_ttfb": 30.0,
        "transport": 5.0,
        "listener": 40.0,
    }
    marks = [v for v in record["marks_ms"].values()]
    assert marks == sorted(marks) and marks[0] == 0.0
    assert record["voice_to_voice_ms"] == pytest.approx(405.0)
    assert record["voice_to_listener_ms"] == pytest.approx(445.0)
    assert record["total_ms"] == pytest.approx(465.0)  # + capture_ms, which no server can see
    assert record["total_assumes_budget_for"] == ["capture_ms"]
    stage_sum = sum(v for k, v in record["stages_ms"].items() if v is not None and k != "listener")
    assert stage_sum == pytest.approx(record["voice_to_voice_ms"])


def test_a_pause_inside_an_answer_moves_the_speech_end() -> None:
    tracker, clock = make_tracker()
    tracker.user_turn_started()
    clock.t += 1
    tracker.vad_user_stopped(stop_secs=0.2)
    clock.t += 0.5
    tracker.vad_user_started()  # it was only a pause
    clock.t += 2
    tracker.vad_user_stopped(stop_secs=0.2)
    clock.t += 0.05
    tracker.turn_committed()
    clock.t += 0.1
    tracker.llm_first_token()
    tracker.bot_started_speaking()
    record = tracker.finalize()["turns"][0]
    assert record["stages_ms"]["endpointing"] == pytest.approx(250.0)
    assert record["voice_to_voice_ms"] == pytest.approx(350.0)


@given(st.lists(st.floats(min_value=0, max_value=10_000, allow_nan=False), min_size=1, max_size=200), st.floats(0, 100))
def test_percentile_matches_numpy(values: list[float], q: float) -> None:
    assert percentile(values, q) == pytest.approx(float(np.percentile(values, q)), rel=1e-9, abs=1e-6)


def test_hours_of_turns_window_and_session_percentiles() -> None:
    sink = ListSink()
    tracker, clock = make_tracker(sink, window_turns=20, min_samples=10)
    rng = np.random.default_rng(7)
    llm = rng.uniform(0.05, 0.3, size=1000)  # 1000 turns, ~2.3 hours of interview
    for value in llm:
        play(tracker, clock, Turn(llm=float(value)))
    assert clock.t > 2 * 3600
    records = sink.of("turn_latency")
    assert len(records) == 1000 and [r["turn"] for r in records] == list(range(1, 1001))
    totals = [r["total_ms"] for r in records]
    window = tracker.window_stats()
    assert window["turns"] == 20
    assert window["total_ms"]["p50"] == pytest.approx(np.percentile(totals[-20:], 50), abs=0.1)
    assert window["total_ms"]["p95"] == pytest.approx(np.percentile(totals[-20:], 95), abs=0.1)
    assert window["stages_ms"]["llm_ttfb"]["p95"] == pytest.approx(np.percentile(llm[-20:] * 1000, 95), abs=0.2)
    summary = tracker.finalize()
    assert summary["stats"]["total_ms"]["n"] == 1000
    assert summary["stats"]["total_ms"]["p95"] == pytest.approx(np.percentile(totals, 95), abs=0.1)
    assert summary["stats"]["stages_ms"]["llm_ttfb"]["p50"] == pytest.approx(np.percentile(llm * 1000, 50), abs=0.2)


def test_failures_count_only_with_enough_samples_and_open_the_breaker() -> None:
    sink = ListSink()
    tracker, clock = make_tracker(sink, window_turns=20, min_samples=10, failures_to_open=3, recovery_timeout_secs=60)
    slow = Turn(llm=0.5)  # ~865 ms total against a 410 ms budget
    for _ in range(9):
        play(tracker, clock, slow)
    records = sink.of("turn_latency")
    assert all(not r["window"]["evaluated"] and not r["window"]["failure"] for r in records)
    assert tracker.breaker.state is BreakerState.CLOSED and tracker.breaker.consecutive_failures == 0

    play(tracker, clock, slow)  # 10th turn: the first judged one
    play(tracker, clock, slow)
    assert tracker.breaker.consecutive_failures == 2 and tracker.breaker.state is BreakerState.CLOSED
    play(tracker, clock, slow)
    assert tracker.breaker.state is BreakerState.OPEN
    records = sink.of("turn_latency")
    assert [r["window"]["failure"] for r in records[9:]] == [True, True, True]
    assert records[-1]["breaker"] == "open"
    assert [(d["old"], d["new"]) for d in sink.of("circuit_breaker")] == [("closed", "open")]

    clock.t += 60  # nothing else happens for a minute
    assert tracker.breaker.state is BreakerState.HALF_OPEN
    assert sink.of("circuit_breaker")[-1]["new"] == "half_open"


def test_breaker_closes_once_the_window_recovers() -> None:
    tracker, clock = make_tracker(window_turns=10, min_samples=5, failures_to_open=3, recovery_timeout_secs=60)
    for _ in range(8):
        play(tracker, clock, Turn(llm=0.5))
    assert tracker.breaker.state is BreakerState.OPEN
    fast = Turn(silence=0.05, stt=0.03, llm=0.08, listener=0.03, think=30)  # ~210 ms
    for _ in range(10):
        play(tracker, clock, fast)
    assert tracker.breaker.state is BreakerState.CLOSED


def test_success_below_min_samples_is_not_counted_either() -> None:
    tracker, clock = make_tracker(min_samples=10, failures_to_open=1)
    for _ in range(9):
        play(tracker, clock, Turn(llm=2.0))
    assert tracker.breaker.state is BreakerState.CLOSED


def test_turn_without_listener_mark_is_still_recorded() -> None:
    sink = ListSink()
    tracker, clock = make_tracker(sink)
    play(tracker, clock, Turn(listener=None))
    assert sink.of("turn_latency") == []  # still waiting for a mark
    play(tracker, clock, Turn(listener=None))  # the next turn starting closes the first
    first = sink.of("turn_latency")[0]
    assert first["completed_by"] == "next_turn" and first["status"] == "complete"
    assert first["voice_to_listener_ms"] is None and first["stages_ms"]["listener"] is None
    # the listener leg is counted at its budget (network 30 + playback 30) plus capture 20
    assert first["total_ms"] == pytest.approx(405 + 60 + 20)
    assert first["total_assumes_budget_for"] == ["capture_ms", "network_ms", "playback_ms"]
    summary = tracker.finalize()  # session end closes the last one
    assert [r["completed_by"] for r in summary["turns"]] == ["next_turn", "session_end"]
    assert summary["counts"]["with_listener_mark"] == 0


def test_turn_interrupted_before_the_reply_is_recorded_as_interrupted() -> None:
    sink = ListSink()
    tracker, clock = make_tracker(sink)
    tracker.user_turn_started()
    clock.t += 2
    tracker.vad_user_stopped()
    tracker.turn_committed()
    clock.t += 0.05
    tracker.llm_first_token()
    tracker.interrupted()  # the candidate carries on before the interviewer speaks
    tracker.user_turn_started()
    [record] = sink.of("turn_latency")
    assert record["status"] == "interrupted" and record["interrupted"]
    assert record["total_ms"] is None and "window" not in record
    assert record["stages_ms"]["llm_ttfb"] == pytest.approx(50.0)
    summary = tracker.finalize()  # the second turn was never committed: not a turn
    assert summary["counts"] == {
        "turns": 1, "complete": 0, "interrupted": 1, "unanswered": 0, "with_listener_mark": 0, "ignored_listener_marks": 0,
    }  # fmt: skip
    assert summary["verdict"]["within_budget"] is None


def test_reply_never_started_before_session_end_is_unanswered() -> None:
    tracker, _clock = make_tracker()
    tracker.user_turn_started()
    tracker.vad_user_stopped()
    tracker.turn_committed()
    assert tracker.finalize()["turns"][0]["status"] == "unanswered"


def test_greeting_and_stray_marks_are_not_turns() -> None:
    tracker, _clock = make_tracker()
    tracker.bot_started_speaking()  # greeting: no candidate turn yet
    assert tracker.listener_playback_started() is False
    assert tracker.finalize()["counts"]["turns"] == 0
    assert tracker.finalize()["counts"]["ignored_listener_marks"] == 1


def test_listener_wall_time_is_used_when_plausible() -> None:
    tracker, clock = make_tracker()
    play(tracker, clock, Turn(listener=None))
    bot_started = clock.t
    clock.t += 0.2  # the mark arrives 200 ms later, but playback started 50 ms after the server wrote
    assert tracker.listener_playback_started(wall_time=bot_started + 0.05 + WALL_OFFSET, client_turn=1)
    record = tracker.turns[0]
    assert record["stages_ms"]["listener"] == pytest.approx(50.0)
    assert record["listener"] == {"source": "client", "clock": "listener", "client_turn": 1}

    play(tracker, clock, Turn(listener=None))
    bot_started = clock.t
    clock.t += 0.1
    tracker.listener_playback_started(wall_time=bot_started - 5 + WALL_OFFSET)  # skewed client clock
    record = tracker.turns[1]
    assert record["stages_ms"]["listener"] == pytest.approx(100.0)
    assert record["listener"]["clock"] == "arrival"


def test_function_calls_are_taken_out_of_llm_ttfb() -> None:
    tracker, clock = make_tracker()
    tracker.user_turn_started()
    clock.t += 1
    tracker.vad_user_stopped()
    tracker.turn_committed()
    clock.t += 0.1
    tracker.function_call_started("a", "record_score")
    tracker.function_call_started("b", "query_knowledge")
    clock.t += 0.3
    tracker.function_call_finished("a")
    clock.t += 0.1
    tracker.function_call_finished("b")
    clock.t += 0.2
    tracker.llm_first_token()
    tracker.bot_started_speaking()
    record = tracker.finalize()["turns"][0]
    assert record["stages_ms"]["function_calls"] == pytest.approx(400.0)  # parallel calls count once
    assert record["stages_ms"]["llm_ttfb"] == pytest.approx(300.0)
    assert [c["name"] for c in record["function_calls"]] == ["record_score", "query_knowledge"]


def test_pipecat_breakdown_is_merged_into_the_matching_turn() -> None:
    sink = ListSink()
    tracker, clock = make_tracker(sink)
    play(tracker, clock, Turn(listener=None, tts=0.15))
    speech_end_wall = clock.wall() - Turn(tts=0.15).voice_to_voice_ms / 1000
    tracker.merge_breakdown(
        LatencyBreakdown(
            ttfb=[TTFBBreakdownMetrics(processor="LLM#0", start_time=0, duration_secs=0.09)],
            text_aggregation=TextAggregationBreakdownMetrics(processor="TTS#0", start_time=0, duration_secs=0.12),
            user_turn_start_time=speech_end_wall,
            total_secs=0.52,
            contributions=[],
        )
    )
    clock.t += 0.04
    tracker.listener_playback_started()
    [record] = sink.of("turn_latency")
    assert record["stages_ms"]["text_aggregation"] == pytest.approx(120.0)
    assert record["stages_ms"]["tts_ttfb"] == pytest.approx(30.0)
    assert record["pipecat"]["ttfb_ms"] == {"LLM#0": 90.0}
    assert record["pipecat"]["text_aggregation_ms"] == 120.0


def test_breakdown_of_the_greeting_is_ignored() -> None:
    tracker, _ = make_tracker()
    tracker.merge_breakdown(LatencyBreakdown(user_turn_start_time=None))
    assert tracker.finalize()["turns"] == []


def test_latency_json_shape_and_worst_stage(tmp_path: Path) -> None:
    record = SessionRecord.create(tmp_path, "t")
    tracker, clock = make_tracker(record, min_samples=10)
    for i in range(12):
        play(tracker, clock, Turn(llm=0.35 + 0.01 * (i % 3), stt=0.09))  # LLM 200+ ms over its 150 ms
    tracker.finalize()
    record.close()
    data = json.loads((record.directory / "latency.json").read_text())
    assert set(data) >= {"turns", "counts", "stats", "window", "budget", "verdict", "breaker"}
    assert len(data["turns"]) == 12
    assert set(data["stats"]["stages_ms"]) == set(STAGES)
    assert data["budget"]["total_ms"] == 410
    assert data["budget"]["stages_ms"] == {
        "endpointing": 50, "stt": 80, "llm_ttfb": 150, "function_calls": 0, "text_aggregation": 0,
        "tts_ttfb": 50, "transport": 0, "listener": 60,
    }  # fmt: skip
    assert data["budget"]["unmeasured_ms"] == {"capture_ms": 20}
    verdict = data["verdict"]
    assert verdict["within_budget"] is False and verdict["enough_samples"] is True
    assert verdict["worst_stage"] == "llm_ttfb"
    assert verdict["worst_stage_overrun_ms"] == pytest.approx(data["stats"]["stages_ms"]["llm_ttfb"]["p95"] - 150)
    assert "worst stage llm_ttfb" in verdict["summary"]
    lines = [json.loads(line) for line in record.events_path.read_text().splitlines()]
    assert sum(line["type"] == "turn_latency" for line in lines) == 12
    assert any(line["type"] == "circuit_breaker" for line in lines)


def test_within_budget_verdict_names_the_tightest_stage() -> None:
    tracker, clock = make_tracker()
    for _ in range(10):
        play(
            tracker, clock, Turn(silence=0.04, stt=0.05, detect=0.005, llm=0.12, tts=0.03, transport=0.0, listener=0.05)
        )
    verdict = tracker.finalize()["verdict"]
    assert verdict["within_budget"] is True
    # the stage with the least headroom: endpointing at 45 ms of its 50
    assert verdict["worst_stage"] == "endpointing"
    assert verdict["worst_stage_overrun_ms"] == pytest.approx(-5.0)
    assert verdict["summary"].startswith("within budget")


def test_finalize_is_idempotent_and_works_without_a_sink() -> None:
    tracker, clock = make_tracker(None)
    play(tracker, clock, Turn())
    first = tracker.finalize()
    assert tracker.finalize() is first


def test_provider_incidents_are_in_latency_json_with_their_turn() -> None:
    tracker, clock = make_tracker()
    play(tracker, clock, Turn())
    tracker.incident("failover_recovered", stage="tts", service="elevenlabs")  # between turns
    tracker.vad_user_started()
    tracker.user_turn_started()
    tracker.incident("failover", stage="llm", from_service="openai", to_service="local", reason="503")
    tracker.incident("filler", reason="llm failover", waited_ms=720.0)
    summary = tracker.summary()
    assert summary["incident_counts"] == {"failover": 1, "failover_recovered": 1, "filler": 1}
    between, during = summary["incidents"][0], summary["incidents"][1]
    assert between["turn"] is None and during["stage"] == "llm" and during["turn"] == 2


def test_the_breaker_blames_the_stage_furthest_over_its_budget() -> None:
    tracker, clock = make_tracker(min_samples=2)
    assert tracker.worst_window_stage() is None  # nothing measured yet
    for _ in range(3):
        play(tracker, clock, Turn(llm=2.5, tts=0.2))
    assert tracker.worst_window_stage() == "llm_ttfb"
