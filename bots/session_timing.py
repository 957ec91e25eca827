"""How long a session's process may live beyond its interview, shared by the bot and the launcher.

Why a module of its own: the bot's clock starts when the candidate joins and scoring runs
after the end, so the launcher's watchdog must allow for both; keeping the figures here (no
Pipecat imports) lets the launcher read them without loading the pipeline.
"""

from __future__ import annotations

EVALUATION_TIMEOUT_SECS = 180.0  # scoring at the end of a session gives up after this
STOPPED_EVALUATION_TIMEOUT_SECS = 10.0  # after SIGTERM: scoring must fit in the launcher's grace (30 s)
REPORT_SECS = 30.0  # latency.json, report.html and closing the record, after scoring
JOINED_LINE = "Candidate joined"  # printed by the bot when its candidate arrives; the launcher reads it


def after_interview_seconds() -> float:
    """What a session needs after its interview ends: scoring, then the reports."""
    return EVALUATION_TIMEOUT_SECS + REPORT_SECS
