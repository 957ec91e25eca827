"""One candidate turn: its moments (`TurnMarks`), the stages they tile, and the record made of them.

Stages tile one turn, so they add up to the server-side total:

    speech_end -> vad_stop -> transcript -> committed -> llm_first_token -> tts_first_audio -> bot_started -> listener
    endpointing = silence the VAD waited + turn decision after the transcript   (budget vad_ms)
    stt         = VAD stop -> final transcript                                   (budget stt_ms)
    llm_ttfb    = committed -> first LLM token, minus function calls             (budget llm_ms)
    function_calls, text_aggregation, transport                                  (no budget of their own: 0)
    tts_ttfb    = first token -> first TTS audio, minus text aggregation         (budget tts_ms)
    listener    = transport writes -> candidate hears (network + playback)       (budget network_ms + playback_ms)

A turn's judged `total_ms` is what the candidate waited; the parts we cannot see
(`capture_ms` always, the listener leg when no mark came back) are counted at their
budget, so it is comparable with `LatencyBudget.total_ms`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from interview.config import LatencyBudget

# Stage -> the LatencyBudget fields it is judged against (empty: budget 0).
STAGE_BUDGET_FIELDS: dict[str, tuple[str, ...]] = {
    "endpointing": ("vad_ms",),
    "stt": ("stt_ms",),
    "llm_ttfb": ("llm_ms",),
    "function_calls": (),
    "text_aggregation": (),
    "tts_ttfb": ("tts_ms",),
    "transport": (),
    "listener": ("network_ms", "playback_ms"),
}
STAGES: tuple[str, ...] = tuple(STAGE_BUDGET_FIELDS)
# Before the server hears the speech end (mic capture, uplink): never measurable here.
UNMEASURED_FIELDS: tuple[str, ...] = ("capture_ms",)
MARKS: tuple[str, ...] = (
    "speech_end",
    "vad_stop",
    "transcript",
    "turn_committed",
    "llm_first_token",
    "tts_first_audio",
    "bot_started_speaking",
    "listener_playback_started",
)


def stage_budgets_ms(budget: LatencyBudget) -> dict[str, float]:
    return {stage: float(sum(getattr(budget, f) for f in fields)) for stage, fields in STAGE_BUDGET_FIELDS.items()}


@dataclass
class FunctionCall:
    name: str
    start: float
    end: float | None = None


@dataclass
class TurnMarks:
    """Raw timestamps of one candidate turn, on the tracker's clock."""

    index: int
    speech_end: float | None = None
    speech_end_wall: float | None = None
    vad_stop: float | None = None
    transcript: float | None = None
    turn_committed: float | None = None
    llm_first_token: float | None = None
    tts_first_audio: float | None = None
    bot_started_speaking: float | None = None
    listener_playback_started: float | None = None
    listener_source: str | None = None
    listener_clock: str | None = None
    client_turn: int | None = None
    interrupted: bool = False
    false_end: bool = False  # the turn ended once, the candidate went on: one record for the whole answer
    function_calls: dict[str, FunctionCall] = field(default_factory=dict)
    text_aggregation_secs: float | None = None
    pipecat: dict[str, Any] | None = None
    record: dict[str, Any] | None = None  # set once closed


def build_record(turn: TurnMarks, completed_by: str, budget: LatencyBudget) -> dict[str, Any]:
    """The persisted record of one closed turn (turn_latency event, latency.json)."""
    if turn.bot_started_speaking is not None:
        status = "complete"
    elif turn.interrupted or completed_by == "next_turn":
        status = "interrupted"
    else:
        status = "unanswered"
    anchor = turn.speech_end if turn.speech_end is not None else _first(turn, MARKS)

    def rel(value: float | None) -> float | None:
        return None if value is None or anchor is None else round((value - anchor) * 1000, 1)

    stages = turn_stages(turn)
    v2v = _ms(turn.speech_end, turn.bot_started_speaking)
    v2l = _ms(turn.speech_end, turn.listener_playback_started)
    assumed = list(UNMEASURED_FIELDS)
    total: float | None = None
    if v2l is not None:
        total = v2l
    elif v2v is not None:
        total = v2v + stage_budgets_ms(budget)["listener"]
        assumed += list(STAGE_BUDGET_FIELDS["listener"])
    if total is not None:
        total = round(total + sum(getattr(budget, f) for f in UNMEASURED_FIELDS), 1)
    record: dict[str, Any] = {
        "turn": turn.index,
        "status": status,
        "interrupted": status == "interrupted",
        "false_end": turn.false_end,
        "completed_by": completed_by,
        "marks_ms": {m: rel(getattr(turn, m)) for m in MARKS},
        "stages_ms": stages,
        "voice_to_voice_ms": v2v,
        "voice_to_listener_ms": v2l,
        "total_ms": total,
        "total_assumes_budget_for": assumed if total is not None else [],
        "function_calls": [{"name": c.name, "ms": _ms(c.start, c.end)} for c in turn.function_calls.values()],
        "listener": {"source": turn.listener_source, "clock": turn.listener_clock, "client_turn": turn.client_turn}
        if turn.listener_playback_started is not None
        else None,
        "pipecat": turn.pipecat,
    }
    return record


def turn_stages(t: TurnMarks) -> dict[str, float | None]:
    """Stage durations in ms, tiled along the turn (see the module docstring)."""
    stages: dict[str, float | None] = dict.fromkeys(STAGES)
    if t.speech_end is not None and t.vad_stop is not None and t.turn_committed is not None:
        if t.transcript is not None:
            transcript = min(max(t.transcript, t.vad_stop), max(t.turn_committed, t.vad_stop))
            stages["stt"] = _ms(t.vad_stop, transcript)
            stages["endpointing"] = _round((t.vad_stop - t.speech_end + max(0.0, t.turn_committed - transcript)) * 1000)
        else:
            stages["endpointing"] = _ms(t.speech_end, t.turn_committed)
    if t.turn_committed is not None and t.llm_first_token is not None:
        calls = _overlap_secs(
            [(c.start, c.end) for c in t.function_calls.values() if c.end is not None],
            t.turn_committed,
            t.llm_first_token,
        )
        stages["function_calls"] = _round(calls * 1000)
        stages["llm_ttfb"] = _round(max(0.0, t.llm_first_token - t.turn_committed - calls) * 1000)
    if t.llm_first_token is not None and t.tts_first_audio is not None:
        span = max(0.0, t.tts_first_audio - t.llm_first_token)
        aggregation = min(span, t.text_aggregation_secs) if t.text_aggregation_secs is not None else None
        stages["text_aggregation"] = _round(aggregation * 1000) if aggregation is not None else None
        stages["tts_ttfb"] = _round((span - (aggregation or 0.0)) * 1000)
    stages["transport"] = _ms(t.tts_first_audio, t.bot_started_speaking)
    stages["listener"] = _ms(t.bot_started_speaking, t.listener_playback_started)
    return stages


def _round(value: float) -> float:
    return round(value, 1)


def _ms(start: float | None, end: float | None) -> float | None:
    if start is None or end is None:
        return None
    return _round(max(0.0, end - start) * 1000)


def _first(turn: TurnMarks, names: Iterable[str]) -> float | None:
    present = [getattr(turn, n) for n in names if getattr(turn, n) is not None]
    return min(present) if present else None


def _overlap_secs(intervals: list[tuple[float, float]], start: float, end: float) -> float:
    """Length of the union of `intervals` clipped to [start, end] (parallel calls count once)."""
    clipped = sorted((max(a, start), min(b, end)) for a, b in intervals if min(b, end) > max(a, start))
    if not clipped:
        return 0.0
    total = 0.0
    cur_start, cur_end = clipped[0]
    for a, b in clipped[1:]:
        if a > cur_end:
            total += cur_end - cur_start
            cur_start, cur_end = a, b
        else:
            cur_end = max(cur_end, b)
    return total + (cur_end - cur_start)
