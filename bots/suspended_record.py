"""Finishing the record of a session that cannot go on: as the interview stood at its last snapshot.

Two cases, the same work: a suspended session nobody came back to (its process wrote
everything but the reports when the candidate dropped out, and waited), and a session whose
bot died and could not be replaced (the launcher's attempts ran out: `bot.py --close-record`).
This writes what a session's end writes — latency.json, evaluation.json (the answers from the
snapshot, scored), `session_ended` with the reason (candidate_left, bot_crashed) and
report.html — from the record folder alone.
"""

from __future__ import annotations

import time
from pathlib import Path

from loguru import logger

from bots.session_record import SessionRecord, read_resumable_record
from bots.session_timing import EVALUATION_TIMEOUT_SECS
from interview.config import InterviewConfig
from interview.end_reason import EndReason
from interview.evaluator import RubricEvaluator
from latency.tracker import LatencyTracker
from report import write_report
from services.scorers import create_scorer
from settings import Settings


async def finish_suspended_record(
    settings: Settings, directory: Path, *, reason: EndReason = "candidate_left", why: str = "reconnect_window_closed"
) -> None:
    """Score and close the record; `why` is the event that says what closed it, `reason` the end reason."""
    config_data, snapshot = read_resumable_record(directory)
    config = InterviewConfig.model_validate(config_data["interview"])
    away = max(0.0, time.time() - snapshot.saved_at_wall)
    record = SessionRecord.reopen(directory, elapsed_s=snapshot.record_elapsed_s + away)
    try:
        record.event(why, away_s=round(away, 1))
        latency = LatencyTracker(
            config.budget.latency,
            config.budget.latency_alerts,
            events=record,
            vad_stop_secs=config.turn_taking.vad_stop_secs,
        )
        latency.continue_from(snapshot.latency_turns)
        latency.finalize()
        scorer = create_scorer(config, settings)
        evaluator = RubricEvaluator(config, scorer, events=record)
        evaluator.restore(snapshot.evaluator)
        if snapshot.held_line is not None:  # the answer the session held when the candidate dropped
            record.transcript("candidate", snapshot.held_line.text, phase=snapshot.held_line.phase)
            evaluator.on_line("candidate", snapshot.held_line.text, snapshot.held_line.phase)
        await evaluator.finalize(timeout=EVALUATION_TIMEOUT_SECS)
        close = getattr(scorer, "aclose", None)
        if close is not None:
            await close()
    finally:
        record.event("session_ended", reason=reason, duration_s=record.elapsed(), state=snapshot.state)
        record.close()
    try:
        write_report(directory)
    except Exception:
        logger.exception(f"session {directory.name}: report.html could not be written")
