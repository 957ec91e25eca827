"""What the interview clock tells the interviewer, as context messages.

The phase tracker injects these as system messages (no LLM run of their own, so
they never cause a second, overlapping response); they shape the *next* turn.
Each starts with a marker so the structured interviewer (no LLM) can act on
them too. No Pipecat imports.
"""

from __future__ import annotations

import re

from interview.config import InterviewConfig, Phase
from interview.state import InterviewState

MARKER = "[interview clock]"
WRAP_UP_MARKER = f"{MARKER} time is up"
RESUME_MARKER = f"{MARKER} resuming"
PHASE_ENTERED_MARKER = f"{MARKER} Now in phase"
_ENTERED_PHASE_ID = re.compile(r"\[([a-z][a-z0-9_]*)\], about ")


def _minutes(seconds: float) -> str:
    minutes = max(0, round(seconds / 60))
    return "less than a minute" if minutes == 0 else f"{minutes} minute{'s' if minutes != 1 else ''}"


def phase_entered(phase: Phase) -> str:
    text = f"{PHASE_ENTERED_MARKER} {phase.name} [{phase.id}], about {_minutes(phase.duration_seconds)}."
    return f"{text} {phase.prompt_suffix}".strip()


def entered_phase_id(text: str) -> str | None:
    """The phase id a `phase_entered` note names: the tracker's word on where the interview is."""
    if not text.startswith(PHASE_ENTERED_MARKER):
        return None
    match = _ENTERED_PHASE_ID.search(text)
    return match.group(1) if match else None


def phase_time_warning(phase: Phase, seconds_left: float) -> str:
    return (
        f"{MARKER} {_minutes(seconds_left)} left in {phase.name}. Finish the current topic and move on "
        "with transition_section soon."
    )


def rubric_reminder(config: InterviewConfig) -> str:
    if not config.rubric:
        return f"{MARKER} Halfway through. Keep one question at a time and follow the plan."
    areas = "; ".join(f"{a.name} ({a.weight:.0%}): {a.description}" for a in config.rubric)
    return f"{MARKER} Halfway through. Keep gathering evidence for every rubric area: {areas}"


def wrap_up(config: InterviewConfig) -> str:
    return (
        f"{WRAP_UP_MARKER} ({config.duration_minutes:g} minutes). Thank the candidate briefly and call "
        "end_interview now; do not start a new question."
    )


def resume_note(config: InterviewConfig, state: InterviewState) -> str:
    """Context for a session resumed after a drop: where we were and what is known so far."""
    phase = config.phase(state.current_phase)
    scores = ", ".join(f"{s.rubric_area} {s.score}" for s in state.scores) or "none yet"
    return (
        f"{RESUME_MARKER} after a dropped connection. We were in phase {phase.name} "
        f"[{phase.id}]; scores so far: {scores}. Do not greet again: welcome the candidate back in one "
        "sentence and continue where we left off."
    )


def is_wrap_up(text: str) -> bool:
    return text.startswith(WRAP_UP_MARKER)
