"""The header view: who, for what, when, how long, how it ended, and which providers ran it.

Why: the first thing a reader checks is that this is the right session and whether it ran
to the end; an interview cut short by a hang-up or an error reads very differently.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from report.record import RecordData, json_object
from report.timing import clock

END_LABELS = {
    "completed": ("Completed", "ok"),
    "candidate_left": ("Candidate left early", "warn"),
    "bot_crashed": ("Interviewer process failed", "bad"),
    "candidate_silent": ("Ended: candidate silent", "warn"),
    "session_timeout": ("Session time limit reached", "warn"),
    "budget_exhausted": ("Ended: cost budget reached", "warn"),
    "idle_timeout": ("Ended: idle timeout", "warn"),
    "stopped": ("Stopped by the operator", "warn"),
    "cancelled": ("Cancelled", "warn"),
    "error": ("Ended by an error", "bad"),
}
STAGE_NAMES = {"stt": "Speech-to-text", "llm": "Interviewer", "tts": "Voice"}


@dataclass(frozen=True)
class HeaderView:
    title: str
    candidate: str
    role: str
    role_label: str  # "Role" or "Study"
    company: str | None
    interview: str
    session_id: str
    date: str
    duration: str
    ended: str
    ended_tone: str  # ok | warn | bad
    ended_detail: str | None
    transport: str
    providers: list[tuple[str, str]]


def build_header(record: RecordData) -> HeaderView:
    interview, config = record.interview, record.config
    research = interview.get("interview_type") == "qualitative_research"
    person = "Participant" if research else "Candidate"
    name = config.get("candidate_name") or interview.get("candidate_name")
    started = record.first_event("session_started")
    ended = record.first_event("session_ended")
    reason = str(ended.get("reason")) if ended and ended.get("reason") else None
    transport = str(config.get("transport") or (started or {}).get("transport") or "unknown")
    label, tone = _ending(reason, on_phone=any(e.get("type") == "phone_call" for e in record.events))
    errors = [str(e.get("message")) for e in record.events_of("error") if e.get("message")]
    company = interview.get("company", {}).get("name") if isinstance(interview.get("company"), dict) else None
    role = str(interview.get("role") or "Unknown role")
    providers = json_object(config, "providers")
    return HeaderView(
        title=f"{name or person} — {role}",
        candidate=str(name) if name else f"{person} (name not given)",
        role=role,
        role_label="Study" if research else "Role",
        company=str(company) if company else None,
        interview=str(interview.get("id") or "unknown"),
        session_id=str(config.get("session_id") or record.directory.name),
        date=_date((started or {}).get("t") or (record.events[0].get("t") if record.events else None)),
        duration=_duration(ended, record),
        ended=label,
        ended_tone=tone,
        ended_detail=errors[-1] if errors and reason == "error" else None,
        transport=transport,
        providers=[(STAGE_NAMES.get(k, k), str(v)) for k, v in providers.items()],
    )


def _ending(reason: str | None, *, on_phone: bool) -> tuple[str, str]:
    """How the session ended, in words; a phone call's record says so (its `phone_call` event)."""
    if reason is None:
        return "Did not record its end (the process may have crashed)", "bad"
    if reason == "candidate_left" and on_phone:
        return "Caller hung up", "warn"
    return END_LABELS.get(reason, (reason.replace("_", " ").capitalize(), "warn"))


def _date(stamp: Any) -> str:
    if not isinstance(stamp, str):
        return "unknown date"
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return stamp
    return moment.strftime("%d %b %Y, %H:%M UTC")


def _duration(ended: dict[str, Any] | None, record: RecordData) -> str:
    seconds = (ended or {}).get("duration_s")
    if not isinstance(seconds, (int, float)):
        stamps = [
            float(e["elapsed_s"])
            for e in record.events + record.transcript
            if isinstance(e.get("elapsed_s"), (int, float))
        ]
        if not stamps:
            return "unknown"
        return f"at least {clock(max(stamps))}"
    return clock(float(seconds))
