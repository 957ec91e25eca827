"""The timeline view: phases with time spent against budget, and the moments worth a look.

Why: a reader wants to know whether the interview kept its shape (a phase cut short, one that
overran) and where the unusual things happened: follow-ups, flags, interruptions, silences
and nudges, errors. Phase times come from `phase_transition` events (state.json when events
are missing); moments are events and transcript lines placed on the recording's clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import zip_longest
from typing import Any

from interview.text_similarity import containment
from report.timing import TimedLine, clock

FOLLOW_UP_MATCH = 0.6

# event type -> (kind, label); kinds style the marker.
EVENT_MOMENTS: dict[str, tuple[str, str]] = {
    "follow_up_flag": ("follow_up", "Follow-up flagged"),
    "candidate_silent": ("silence", "Candidate silent, nudged"),
    "idle_timeout": ("silence", "Idle timeout"),
    "echo_gate": ("interruption", "Candidate interrupted the interviewer"),
    "phase_time_warning": ("flag", "Phase time warning"),
    "wrap_up": ("flag", "Wrap-up: interview time is up"),
    "session_timeout": ("flag", "Session time limit reached"),
    "budget_exhausted": ("flag", "Cost budget reached"),
    "keypad": ("flag", "Keypad request"),
    "tool_rejected": ("flag", "Interviewer tool call rejected"),
    "error": ("error", "Error"),
    "answer_scoring_failed": ("error", "Answer scoring failed"),
}


@dataclass(frozen=True)
class PhaseView:
    id: str
    name: str
    budget_s: float
    spent_s: float | None  # None: never entered
    start: float | None  # recording seconds

    @property
    def ratio(self) -> float:
        return (self.spent_s or 0.0) / self.budget_s if self.budget_s else 0.0

    @property
    def status(self) -> str:
        if self.spent_s is None:
            return "skipped"
        if self.ratio > 1.1:
            return "over"
        return "short" if self.ratio < 0.25 else "ok"


@dataclass(frozen=True)
class Moment:
    at: float | None  # recording seconds
    clock: str
    kind: str
    label: str
    detail: str


@dataclass(frozen=True)
class TimelineView:
    phases: list[PhaseView]
    moments: list[Moment]
    counts: dict[str, int]
    total_s: float | None
    budget_s: float


def build_timeline(
    interview: dict[str, Any], events: list[dict[str, Any]], lines: list[TimedLine], origin: float, end_s: float | None
) -> TimelineView:
    phases = _phases(interview, events, origin, end_s)
    moments = _event_moments(events, origin) + _line_moments(interview, lines)
    moments.sort(key=lambda m: (m.at is None, m.at or 0.0))
    counts = {
        kind: sum(m.kind == kind for m in moments) for kind in ("follow_up", "interruption", "silence", "flag", "error")
    }
    budget = sum(p.budget_s for p in phases)
    return TimelineView(phases, moments, counts, end_s - origin if end_s is not None else None, budget)


def _phases(
    interview: dict[str, Any], events: list[dict[str, Any]], origin: float, end_s: float | None
) -> list[PhaseView]:
    planned = [p for p in interview.get("phases") or [] if isinstance(p, dict) and p.get("id")]
    entered: dict[str, float] = {}
    order: list[str] = []
    if planned:
        entered[str(planned[0]["id"])] = origin
        order.append(str(planned[0]["id"]))
    for event in events:
        if event.get("type") == "phase_transition" and isinstance(event.get("elapsed_s"), (int, float)):
            target = str(event.get("to"))
            if target not in entered:
                entered[target] = float(event["elapsed_s"])
                order.append(target)
    leave: dict[str, float | None] = {}
    for current, following in zip_longest(order, order[1:]):
        leave[current] = entered[following] if following else end_s
    views = []
    for phase in planned:
        pid = str(phase["id"])
        start, stop = entered.get(pid), leave.get(pid)
        spent = (stop - start) if start is not None and stop is not None else None
        views.append(
            PhaseView(
                id=pid,
                name=str(phase.get("name") or pid),
                budget_s=float(phase.get("duration_seconds") or 0),
                spent_s=round(max(0.0, spent), 1) if spent is not None else None,
                start=round(start - origin, 1) if start is not None else None,
            )
        )
    return views


def _event_moments(events: list[dict[str, Any]], origin: float) -> list[Moment]:
    moments = []
    for event in events:
        kind_label = EVENT_MOMENTS.get(str(event.get("type")))
        if kind_label is None or (event.get("type") == "echo_gate" and event.get("kind") != "barge_in"):
            continue
        kind, label = kind_label
        at = event.get("elapsed_s")
        seconds = round(max(0.0, float(at) - origin), 1) if isinstance(at, (int, float)) else None
        moments.append(Moment(seconds, clock(seconds), kind, label, _detail(event)))
    return moments


def _detail(event: dict[str, Any]) -> str:
    kind = event.get("type")
    if kind == "follow_up_flag":
        return " / ".join(str(v) for v in (event.get("rubric_area"), event.get("reason")) if v)
    if kind == "candidate_silent":
        return f"nudge {event.get('nudge')} after {event.get('seconds')} s of silence"
    if kind in ("error", "answer_scoring_failed"):
        return str(event.get("message") or event.get("reason") or "")
    if kind == "tool_rejected":
        return f"{event.get('tool')}: {event.get('error')}"
    if kind == "phase_time_warning":
        return f"{event.get('phase')}: {event.get('seconds_in_phase')} s in phase"
    return ""


def _line_moments(interview: dict[str, Any], lines: list[TimedLine]) -> list[Moment]:
    """Follow-up questions the interviewer asked (matched to the plan) and speech cut off by the candidate."""
    follow_ups = [
        str(q["follow_up"])
        for phase in interview.get("phases") or []
        if isinstance(phase, dict)
        for q in phase.get("questions") or []
        if isinstance(q, dict) and q.get("follow_up")
    ]
    moments = []
    for line in lines:
        if line.speaker != "interviewer":
            continue
        if line.interrupted:
            moments.append(
                Moment(line.start, clock(line.start), "interruption", "Interviewer cut off", _short(line.text))
            )
        if any(containment(text, line.text) >= FOLLOW_UP_MATCH for text in follow_ups):
            moments.append(Moment(line.start, clock(line.start), "follow_up", "Follow-up asked", _short(line.text)))
    return moments


def _short(text: str, limit: int = 110) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
