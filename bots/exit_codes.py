"""Exit codes of `bot.py` for one room session: the launcher (or a shell) learns how it ended.

| code | meaning |
|---|---|
| 0 | completed: the interview ran to its end |
| 1 | error: the session failed (provider, connection, pipeline error) |
| 2 | usage: bad flags, settings or interview config (nothing started) |
| 3 | session contract: room metadata missing (timeout), malformed or invalid |
| 4 | resume refused: `--resume DIR` names a record that cannot be resumed (nothing started) |
| 10 | candidate_left: the candidate left or the room emptied before the end |
| 11 | session_timeout: `session_timeout_seconds` reached (goodbye said) |
| 12 | budget_exhausted: the estimated spend reached `budget.limit_usd` (goodbye said) |
| 13 | candidate_silent: no answer after repeated nudges |
| 14 | idle_timeout: nothing happened on the line for `idle_cancel_seconds` |
| 15 | stopped: asked to stop (SIGTERM, e.g. the launcher's DELETE) |
| 16 | cancelled: ended for another reason before completion |
| 17 | bot_crashed: the bot died and its replacements too (`bot.py --close-record`, the launcher) |
"""

from __future__ import annotations

from interview.end_reason import EndReason

EXIT_OK = 0
EXIT_SESSION_FAILED = 1
EXIT_USAGE = 2
EXIT_CONTRACT = 3
EXIT_RESUME = 4  # --resume: the record cannot be resumed (ended, corrupt, no resume token): retrying will not help

END_REASON_EXIT_CODES: dict[EndReason, int] = {
    "completed": EXIT_OK,
    "error": EXIT_SESSION_FAILED,
    "candidate_left": 10,
    "session_timeout": 11,
    "budget_exhausted": 12,
    "candidate_silent": 13,
    "idle_timeout": 14,
    "stopped": 15,
    "cancelled": 16,
    "bot_crashed": 17,
}
EXIT_CODE_REASONS: dict[int, str] = {
    **{code: reason for reason, code in END_REASON_EXIT_CODES.items()},
    EXIT_USAGE: "usage_error",
    EXIT_CONTRACT: "contract_error",
    EXIT_RESUME: "resume_refused",
}


def exit_code_for(end_reason: EndReason) -> int:
    return END_REASON_EXIT_CODES.get(end_reason, END_REASON_EXIT_CODES["cancelled"])


def reason_for_exit_code(code: int | None) -> str:
    """What a child's exit status means; signals (negative codes) read as `killed_by_signal_N`."""
    if code is None:
        return "running"
    if code < 0:
        return f"killed_by_signal_{-code}"
    return EXIT_CODE_REASONS.get(code, f"exit_{code}")
