"""How a session ended: one word, the same in the record, the progress message, the exit code and the report.

`interview/state.py`'s `end_reason` is the interviewer's own words for the end ("all phases done");
this is the session's outcome, a fixed vocabulary whose values are written to JSON and must not change.
`bots/exit_codes.py` maps each to `bot.py`'s exit status, `report/header.py` to its label.
"""

from __future__ import annotations

from typing import Literal, get_args

EndReason = Literal[
    "completed",  # the interview ran to its end
    "error",  # the session failed (provider, connection, pipeline error)
    "candidate_left",  # the candidate left or the room emptied before the end
    "session_timeout",  # the interview's time limit was reached (goodbye said)
    "budget_exhausted",  # the estimated spend reached the budget (goodbye said)
    "candidate_silent",  # no answer after repeated nudges
    "idle_timeout",  # nothing happened on the line for the idle limit
    "stopped",  # asked to stop (SIGTERM, e.g. the launcher's DELETE)
    "cancelled",  # ended for another reason before completion
    "bot_crashed",  # the bot process died and could not be replaced (the record finished as it stood)
]
END_REASONS: tuple[EndReason, ...] = get_args(EndReason)
