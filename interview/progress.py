"""What the candidate's screen shows of the interview clock, as plain data.

The candidate page must show the current phase and the time left as the server
counts it (the phase clock in `processors/phase_tracker.py`), never a browser
timer that drifts from it. This builds that message from the config and the
state; the tracker sends it (as an RTVI server message) and the page only
renders it. No Pipecat imports: the shape is part of the domain.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from interview.config import InterviewConfig
from interview.end_reason import EndReason
from interview.state import InterviewState

PROGRESS_MESSAGE = "interview-progress"
SESSION_MESSAGE = "interview-session"


def progress_message(
    config: InterviewConfig, state: InterviewState, now: float, *, outcome: EndReason | None = None
) -> dict[str, Any]:
    """The phase, its position, and the seconds left in it and in the whole interview.

    Times left never go below zero; once the interview has ended its clock stops
    (`InterviewState` freezes elapsed time at the end) and `ended` is true.
    `outcome` is how the session ends (`completed`, `session_timeout`, ...) once known;
    `end_reason` is the interviewer's own words for it.
    """
    phase = config.phase(state.current_phase)
    elapsed = state.elapsed(now)
    return {
        "type": PROGRESS_MESSAGE,
        "phase_id": phase.id,
        "phase_name": phase.name,
        "phase_index": config.phase_ids.index(phase.id) + 1,
        "phase_count": len(config.phases),
        "phase_seconds_left": round(max(0.0, phase.duration_seconds - state.time_in_phase(now)), 1),
        "elapsed_seconds": round(elapsed, 1),
        "interview_seconds_left": round(max(0.0, config.duration_minutes * 60 - elapsed), 1),
        "ended": state.ended,
        "end_reason": state.end_reason,
        "outcome": outcome,
    }


def session_message(
    config: InterviewConfig,
    session_id: str,
    record_directory: str,
    *,
    resume_token: str | None = None,
    reconnect_grace_seconds: float | None = None,
) -> dict[str, Any]:
    """Sent once when the candidate joins: which interview this is and its record's name.

    Only the folder's name: the candidate is untrusted and the server's paths are none of their business."""
    return {
        "type": SESSION_MESSAGE,
        "session_id": session_id,
        "role": config.role,
        "company": config.company.name,
        "interviewer": config.interviewer_name,
        "record": PurePath(record_directory).name,
        # A dropped connection comes back with ?resume=<token> within the grace window (same interview).
        "resume_token": resume_token,
        "reconnect_grace_seconds": reconnect_grace_seconds,
    }
