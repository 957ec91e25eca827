"""When a dead bot's session is resumed by a replacement, and how it is closed when it cannot be.

Why a module of its own: the supervisor (`launcher/sessions.py`) follows processes; this
decides from the record alone whether the session is still going (a snapshot to go on from,
no `session_ended`), which exits a retry cannot mend, and finishes a record whose attempts
ran out (`bot.py --close-record`, bounded in time, with the bare `close_abandoned_record` as the
fallback), so a session's record is never left open.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

from loguru import logger

from bots.exit_codes import EXIT_CONTRACT, EXIT_RESUME, EXIT_USAGE
from bots.session_record import close_abandoned_record
from bots.session_timing import EVALUATION_TIMEOUT_SECS
from interview.session_snapshot import SNAPSHOT_FILE

# A replacement that exits so will exit so again: close the record at once.
NOT_RETRYABLE = frozenset({EXIT_USAGE, EXIT_CONTRACT, EXIT_RESUME})
EVENTS_TAIL_BYTES = 64 * 1024  # `session_ended` is the last line a session writes; no need to read it all
CLOSE_RECORD_TIMEOUT_SECONDS = EVALUATION_TIMEOUT_SECS + 60  # scoring, then the report
CRASH_END_REASON = "bot_crashed"


def record_unfinished(record: str | None) -> bool:
    """The record can be gone on with: a snapshot after a turn, and its session has not ended."""
    if record is None:
        return False
    directory = Path(record)
    if not (directory / SNAPSHOT_FILE).is_file():
        return False
    try:
        with open(directory / "events.jsonl", "rb") as events:
            size = events.seek(0, os.SEEK_END)
            events.seek(max(0, size - EVENTS_TAIL_BYTES))
            return b'"session_ended"' not in events.read()
    except OSError:
        return False


async def close_crashed_record(
    record: Path,
    run: Callable[[Sequence[str]], Awaitable[int | None]],
    bot_script: Sequence[str],
    *,
    timeout: float = CLOSE_RECORD_TIMEOUT_SECONDS,
) -> bool:
    """Finish `record` as it stood (`bot.py --close-record`, run by `run`, which returns its exit status
    or None if it had to be killed after `timeout`); if that fails, end it bare. True if the bot closed it."""
    try:
        code = await asyncio.wait_for(run([*bot_script, "--close-record", str(record)]), timeout)
    except TimeoutError:
        code = None
    except OSError as exc:  # could not even start a process
        logger.error(f"launcher: closing record {record.name}: {exc}")
        code = None
    if code is not None and not record_unfinished(str(record)):
        return True
    why = f"the bot died and its record could not be finished (close-record exit {code})"
    if close_abandoned_record(record, why):
        logger.warning(f"launcher: record {record.name}: {why}; closed as error")
    return False
