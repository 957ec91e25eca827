"""Per-session voice-to-voice latency: per-turn records, p50/p95 against the budget, alerts.

Pipecat's `UserBotLatencyObserver` already measures one cycle on the server: from the
candidate's real speech end (VAD stop time - stop_secs) to `BotStartedSpeakingFrame`,
with a per-service breakdown (`on_latency_breakdown`: TTFB, text aggregation,
function calls, named contributions). It keeps nothing, judges nothing and stops
when the transport *writes* audio. This tracker adds what it lacks:

- a persisted record per candidate turn (`turn_latency` event, `latency.json`), also
  for turns the candidate interrupted before the interviewer spoke;
- the listener-side end: when the candidate actually started hearing the reply
  (client `playback-started` message, Twilio `mark` echo) -> `listener_playback_started`;
- p50/p95 per stage and total over a rolling window and the whole session, against
  `LatencyBudget`, with a verdict naming the worst stage;
- a `CircuitBreaker` fed one verdict per evaluated turn (p95 of the window over budget);
  `worst_window_stage()` names the stage to blame when it opens (provider failover);
- provider incidents (failover, retry, filler, recovery) with the turn they hit (`incident`).

Timestamps come from the pipeline's `LatencyProbe`s (processors/latency_probe.py), on the
tracker's own clock (`now`); Pipecat's observer's breakdown is merged into the matching turn
(`attach_observer`) and supplies what no frame shows: the TTS's text-aggregation time and
per-service TTFB.

Stages, marks and the per-turn record: latency/turn_record.py; percentiles and the verdict:
latency/report.py.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from loguru import logger

from interview.config import LatencyAlerts, LatencyBudget
from interview.events import EventSink
from latency.circuit_breaker import CircuitBreaker
from latency.report import p50_p95, percentile, verdict
from latency.turn_record import (
    MARKS,
    STAGES,
    UNMEASURED_FIELDS,
    FunctionCall,
    TurnMarks,
    build_record,
    stage_budgets_ms,
)

if TYPE_CHECKING:
    from pipecat.observers.user_bot_latency_observer import LatencyBreakdown, UserBotLatencyObserver

LATENCY_FILE = "latency.json"

# A breakdown belongs to the turn whose speech end it reports (same VAD frame).
BREAKDOWN_MATCH_SECS = 0.05


class LatencyTracker:
    """One per session: collects turn timestamps, judges them, reports them. See the module docstring."""

    def __init__(
        self,
        budget: LatencyBudget,
        alerts: LatencyAlerts,
        *,
        events: EventSink | None,
        vad_stop_secs: float,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.budget = budget
        self.alerts = alerts
        self.events = events
        self.vad_stop_secs = vad_stop_secs
        self._clock = clock
        self._wall_clock = wall_clock
        self.breaker = CircuitBreaker(
            alerts.failures_to_open, alerts.recovery_timeout_secs, clock, name="latency", events=events
        )
        self._stage_budgets = stage_budgets_ms(budget)
        self._pending: TurnMarks | None = None  # candidate speaking, turn not committed yet
        self._current: TurnMarks | None = None  # committed, waiting for the reply / the listener
        self._closed: list[TurnMarks] = []
        self._window: deque[float] = deque(maxlen=alerts.window_turns)
        self._window_stages: deque[dict[str, float | None]] = deque(maxlen=alerts.window_turns)
        self._next_index = 1
        self._earlier: list[dict[str, Any]] = []  # a resumed session's turns before the drop
        self._greeting_ms: float | None = None
        self._ignored_marks = 0
        self._summary: dict[str, Any] | None = None
        self._incidents: list[dict[str, Any]] = []

    # --- time ----------------------------------------------------------------------

    def now(self) -> float:
        """The tracker's clock (marks without a time of their own are stamped with it)."""
        return self._clock()

    def from_wall_time(self, wall: float) -> float:
        """A wall-clock (epoch) time on the tracker's clock, never later than now."""
        return min(self._clock(), self._wall_to_clock(wall))

    # --- candidate side (user aggregator, STT) ----------------------------------------

    def user_turn_started(self) -> None:
        """The next candidate turn starts: the previous one is complete (or was interrupted)."""
        self._close_current("next_turn")
        if self._pending is None:
            self._pending = self._new_turn()

    def vad_user_started(self) -> None:
        """Speech again: an earlier VAD stop in this turn was only a pause."""
        if self._pending is None:
            self._pending = self._new_turn()
        else:
            self._pending.speech_end = self._pending.speech_end_wall = self._pending.vad_stop = None

    def vad_user_stopped(
        self, at: float | None = None, *, stop_secs: float | None = None, wall_time: float | None = None
    ) -> None:
        """The VAD decided speech ended; the speech itself ended `stop_secs` earlier."""
        if self._pending is None:
            self._pending = self._new_turn()
        if at is None:
            at = self.from_wall_time(wall_time) if wall_time is not None else self._clock()
        silence = stop_secs if stop_secs else self.vad_stop_secs
        turn = self._pending
        turn.vad_stop = at
        turn.speech_end = at - silence
        turn.speech_end_wall = (wall_time if wall_time is not None else self._to_wall(at)) - silence

    def transcript_final(self, at: float | None = None) -> None:
        """A final transcript; the last one before the LLM answers is the one that counts."""
        at = self._now(at)
        if self._pending is None and self._current is not None and self._current.llm_first_token is None:
            self._current.transcript = at  # late transcript of the turn just committed
            return
        if self._pending is None:  # a transcript can start a turn (transcription start strategy)
            self._pending = self._new_turn()
        self._pending.transcript = at

    def turn_committed(self, at: float | None = None) -> None:
        """The turn strategy released the turn (UserStoppedSpeakingFrame)."""
        at = self._now(at)
        turn = self._pending or self._new_turn()
        self._pending = None
        self._close_current("next_turn")
        turn.turn_committed = at
        self._current = turn

    def false_end(self) -> None:
        """The committed turn was not over (the candidate resumed): it stays open as one answer.

        Its reply marks are dropped (that reply was cut and left the context); the next commit
        closes it, marked ``false_end``.
        """
        turn = self._current
        if turn is None:
            return
        self._current = None
        for mark in (*MARKS, "speech_end_wall"):
            setattr(turn, mark, None)
        turn.function_calls.clear()
        turn.false_end = True
        self._pending = turn

    def interrupted(self) -> None:
        """An interruption before the interviewer's reply started marks the turn interrupted."""
        if self._current is not None and self._current.bot_started_speaking is None:
            self._current.interrupted = True

    # --- interviewer side (LLM, TTS, output transport) --------------------------------

    def llm_first_token(self, at: float | None = None) -> None:
        turn = self._current
        if turn is not None and turn.llm_first_token is None:
            turn.llm_first_token = self._now(at)

    def function_call_started(self, call_id: str, name: str, at: float | None = None) -> None:
        turn = self._current
        if turn is not None and call_id not in turn.function_calls:
            turn.function_calls[call_id] = FunctionCall(name=name, start=self._now(at))

    def function_call_finished(self, call_id: str, at: float | None = None) -> None:
        turn = self._current
        call = turn.function_calls.get(call_id) if turn is not None else None
        if call is not None and call.end is None:
            call.end = self._now(at)

    def tts_first_audio(self, at: float | None = None) -> None:
        turn = self._current
        if turn is not None and turn.tts_first_audio is None:
            turn.tts_first_audio = self._now(at)

    def bot_started_speaking(self, at: float | None = None) -> None:
        """The transport wrote the reply's first audio (a greeting or nudge with no turn is ignored)."""
        turn = self._current
        if turn is not None and turn.bot_started_speaking is None:
            turn.bot_started_speaking = self._now(at)

    def listener_playback_started(
        self,
        at: float | None = None,
        *,
        wall_time: float | None = None,
        source: str = "client",
        client_turn: int | None = None,
    ) -> bool:
        """The listener started hearing the reply (client message, Twilio mark echo); closes the turn.

        `at` is on the tracker's clock (default: now, i.e. when the mark arrived);
        `wall_time` is the listener's own epoch timestamp, used when it is plausible
        (not before the server wrote the audio, not in the future). Returns whether
        the mark was applied to a turn.
        """
        turn = self._current
        if turn is None or turn.bot_started_speaking is None or turn.listener_playback_started is not None:
            self._ignored_marks += 1
            return False
        arrival = self._now(at)
        clock_used = "arrival"
        if wall_time is not None:  # trusted only between the server's write and the mark's arrival
            converted = self._wall_to_clock(wall_time)
            if turn.bot_started_speaking <= converted <= arrival:
                arrival, clock_used = converted, "listener"
        turn.listener_playback_started = arrival
        turn.listener_source = source
        turn.listener_clock = clock_used
        turn.client_turn = client_turn
        self._close_current("listener_mark")
        return True

    # --- Pipecat's observer ------------------------------------------------------------

    def attach_observer(self, observer: UserBotLatencyObserver) -> None:
        """Merge `UserBotLatencyObserver`'s per-turn breakdown into our turns."""

        async def on_breakdown(_observer: Any, breakdown: LatencyBreakdown) -> None:
            self.merge_breakdown(breakdown)

        async def on_first_speech(_observer: Any, latency_secs: float) -> None:
            self._greeting_ms = round(latency_secs * 1000, 1)

        observer.add_event_handler("on_latency_breakdown", on_breakdown)
        observer.add_event_handler("on_first_bot_speech_latency", on_first_speech)

    def merge_breakdown(self, breakdown: LatencyBreakdown) -> None:
        if breakdown.user_turn_start_time is None:  # the greeting: not a candidate turn
            return
        turn = self._turn_for_breakdown(breakdown.user_turn_start_time)
        if turn is None:
            logger.debug("latency: breakdown without a matching turn, dropped")
            return
        ttfb: dict[str, float] = {}
        for item in breakdown.ttfb:
            ttfb.setdefault(item.processor, round(item.duration_secs * 1000, 1))
        turn.pipecat = {
            "voice_to_voice_ms": round(breakdown.total_secs * 1000, 1) if breakdown.contributions else None,
            "ttfb_ms": ttfb,
            "text_aggregation_ms": round(breakdown.text_aggregation.duration_secs * 1000, 1)
            if breakdown.text_aggregation
            else None,
            "contributions_ms": _sum_by_key((c.key, c.duration_secs) for c in breakdown.contributions),
            "function_calls": [
                {"name": f.function_name, "ms": round(f.duration_secs * 1000, 1)} for f in breakdown.function_calls
            ],
        }
        if breakdown.text_aggregation is not None:
            turn.text_aggregation_secs = breakdown.text_aggregation.duration_secs
        if not turn.function_calls:
            for i, call in enumerate(breakdown.function_calls):
                start = self.from_wall_time(call.start_time)
                turn.function_calls[f"pipecat-{i}"] = FunctionCall(
                    call.function_name, start, start + call.duration_secs
                )
        if turn.record is not None:  # arrived after the turn was reported: keep it for latency.json
            old = turn.record
            turn.record = build_record(turn, old["completed_by"], self.budget)
            for key in ("window", "breaker"):
                if key in old:
                    turn.record[key] = old[key]

    # --- results -----------------------------------------------------------------------

    def incident(self, kind: str, **data: Any) -> None:
        """A provider incident (failover, retry, filler, recovery) during the current turn."""
        turn = self._current or self._pending
        at = self._clock()
        self._incidents.append(
            {"type": kind, "turn": turn.index if turn else None, "at_wall": round(self._to_wall(at), 3), **data}
        )

    def worst_window_stage(self, among: Iterable[str] = ("stt", "llm_ttfb", "tts_ttfb")) -> str | None:
        """Of `among`, the stage whose window p95 is furthest over its budget (None when none is)."""
        worst: tuple[str, float] | None = None
        window = self.window_stats()["stages_ms"]
        for stage in among:
            p95, budget = window[stage].get("p95"), self._stage_budgets.get(stage)
            if p95 is None or budget is None or p95 <= budget:
                continue
            if worst is None or p95 - budget > worst[1]:
                worst = (stage, p95 - budget)
        return worst[0] if worst else None

    @property
    def turns(self) -> list[dict[str, Any]]:
        """Records of the turns closed so far, oldest first (a resumed session's earlier ones included)."""
        return [*self._earlier, *(t.record for t in self._closed if t.record is not None)]

    def continue_from(self, earlier_turns: list[dict[str, Any]]) -> None:
        """A resumed session: the report covers the turns before the drop too, numbered on from them."""
        self._earlier = [t for t in earlier_turns if isinstance(t, dict)]
        indexes = [t["turn"] for t in self._earlier if isinstance(t.get("turn"), int)]
        self._next_index = max(indexes, default=0) + 1

    def window_stats(self) -> dict[str, Any]:
        """p50/p95 per stage and total over the last `window_turns` evaluated turns."""
        return {
            "turns": len(self._window),
            "total_ms": p50_p95(self._window),
            "stages_ms": {s: p50_p95(st.get(s) for st in self._window_stages) for s in STAGES},
        }

    def summary(self) -> dict[str, Any]:
        """The latency.json document for what has been seen so far."""
        records = self.turns
        complete = [r for r in records if r["status"] == "complete"]
        totals = [r["total_ms"] for r in complete if r["total_ms"] is not None]
        stage_stats = {s: p50_p95(r["stages_ms"][s] for r in complete) for s in STAGES}
        return {
            "turns": records,
            "counts": {
                "turns": len(records),
                "complete": len(complete),
                "interrupted": sum(r["status"] == "interrupted" for r in records),
                "unanswered": sum(r["status"] == "unanswered" for r in records),
                "with_listener_mark": sum(r["voice_to_listener_ms"] is not None for r in records),
                "ignored_listener_marks": self._ignored_marks,
            },
            "stats": {
                "total_ms": p50_p95(totals),
                "voice_to_voice_ms": p50_p95(r["voice_to_voice_ms"] for r in complete),
                "voice_to_listener_ms": p50_p95(r["voice_to_listener_ms"] for r in complete),
                "stages_ms": stage_stats,
            },
            "window": self.window_stats(),
            "budget": {
                "total_ms": self.budget.total_ms,
                "stages_ms": dict(self._stage_budgets),
                "unmeasured_ms": {f: getattr(self.budget, f) for f in UNMEASURED_FIELDS},
                "fields": self.budget.model_dump(),
            },
            "alerts": self.alerts.model_dump(),
            "verdict": verdict(totals, stage_stats, self.budget, self.alerts.min_samples),
            "breaker": self.breaker.snapshot(),
            "greeting_ms": self._greeting_ms,
            "incidents": list(self._incidents),
            "incident_counts": {
                k: sum(i["type"] == k for i in self._incidents) for k in sorted({i["type"] for i in self._incidents})
            },
        }

    def finalize(self) -> dict[str, Any]:
        """Session end: close the open turn, write latency.json (once), return its content."""
        if self._summary is not None:
            return self._summary
        self._close_current("session_end")
        if self._pending is not None:
            logger.debug("latency: candidate turn never committed at session end, not recorded")
            self._pending = None
        self._summary = self.summary()
        if self.events is not None:
            self.events.write_json(LATENCY_FILE, self._summary)
        return self._summary

    # --- internals ---------------------------------------------------------------------

    def _now(self, at: float | None) -> float:
        return self._clock() if at is None else at

    def _wall_to_clock(self, wall: float) -> float:
        return self._clock() - (self._wall_clock() - wall)

    def _to_wall(self, at: float) -> float:
        return self._wall_clock() - (self._clock() - at)

    def _new_turn(self) -> TurnMarks:
        turn = TurnMarks(index=self._next_index)
        self._next_index += 1
        return turn

    def _turn_for_breakdown(self, user_turn_start_wall: float) -> TurnMarks | None:
        candidates = [t for t in (self._current, *reversed(self._closed[-3:])) if t is not None]
        for turn in candidates:
            if (
                turn.speech_end_wall is not None
                and abs(turn.speech_end_wall - user_turn_start_wall) <= BREAKDOWN_MATCH_SECS
            ):
                return turn
        current = self._current
        if current is not None and current.speech_end_wall is None and current.bot_started_speaking is not None:
            return current
        return None

    def _close_current(self, completed_by: str) -> None:
        turn, self._current = self._current, None
        if turn is None:
            return
        record = build_record(turn, completed_by, self.budget)
        if record["status"] == "complete" and record["total_ms"] is not None:
            record["window"] = self._evaluate(record)
            record["breaker"] = self.breaker.state.value
        turn.record = record
        self._closed.append(turn)
        if self.events is not None:
            try:
                self.events.event("turn_latency", **record)
            except Exception:
                logger.exception("latency: could not write turn_latency event")

    def _evaluate(self, record: dict[str, Any]) -> dict[str, Any]:
        """Add the turn to the window; with enough samples, feed the breaker one verdict."""
        self._window.append(record["total_ms"])
        self._window_stages.append(record["stages_ms"])
        samples = len(self._window)
        p95 = percentile(self._window, 95)
        evaluated = samples >= self.alerts.min_samples
        failure = evaluated and p95 > self.budget.total_ms
        if failure:
            self.breaker.record_failure(
                f"p95 {p95:.0f} ms > budget {self.budget.total_ms:.0f} ms over the last {samples} turns"
            )
        elif evaluated:
            self.breaker.record_success(f"p95 {p95:.0f} ms within {self.budget.total_ms:.0f} ms")
        return {"samples": samples, "p95_total_ms": round(p95, 1), "evaluated": evaluated, "failure": failure}


def _sum_by_key(items: Iterable[tuple[str, float]]) -> dict[str, float]:
    out: dict[str, float] = {}
    for key, secs in items:
        out[key] = round(out.get(key, 0.0) + secs * 1000, 1)
    return out
