"""SIGTERM as "say goodbye, finish the record, then exit", for one room session or a whole server.

Why: a websocket or twilio server used to leave SIGTERM to uvicorn, which waits for open
sockets to close; sessions never ended, the launcher's SIGKILL came after its grace period,
and the record had no session_ended, no latency.json, evaluation.json or report.html. Here
every running session is stopped the way a room session always was: a goodbye and a clean
end once the candidate is there, else a cancel. Each then writes its reports and closes its
record; when the last has, `on_all_stopped` lets the server exit.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bots.session_timing import STOPPED_EVALUATION_TIMEOUT_SECS
from transports.common import TransportHandle

if TYPE_CHECKING:
    from bots.session import InterviewSession

STOPPED_GOODBYE = "I'm sorry, I have to end our session here. Thank you for your time. Goodbye."


@dataclass
class _Tracked:
    session: InterviewSession
    joined: bool = False


class GracefulStop:
    """Tracks the running sessions; SIGTERM (or `request()`) stops them all, each at most once."""

    def __init__(self, on_all_stopped: Callable[[], None] | None = None) -> None:
        self._sessions: dict[int, _Tracked] = {}  # by id(): sessions need not be hashable
        self.on_all_stopped = on_all_stopped
        self.requested = False
        self.task: asyncio.Task[None] | None = None  # held here: the loop keeps only a weak reference

    def track(self, session: InterviewSession, handle: TransportHandle) -> None:
        tracked = _Tracked(session)
        self._sessions[id(session)] = tracked

        async def joined() -> None:
            tracked.joined = True

        handle.on_candidate_joined(joined)

    def untrack(self, session: InterviewSession) -> None:
        self._sessions.pop(id(session), None)
        self._maybe_all_stopped()

    @property
    def active(self) -> int:
        return len(self._sessions)

    def install(self) -> None:
        try:
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, self.request)
        except (NotImplementedError, RuntimeError):  # not the main thread / not supported
            pass

    def uninstall(self) -> None:
        try:
            asyncio.get_running_loop().remove_signal_handler(signal.SIGTERM)
        except (NotImplementedError, RuntimeError):
            pass

    def request(self) -> None:
        if self.requested:
            return
        self.requested = True
        self.task = asyncio.get_running_loop().create_task(self._stop_all())

    async def _stop_all(self) -> None:
        for tracked in list(self._sessions.values()):
            tracked.session.record.event("stop_requested", signal="SIGTERM")
            await stop_session(tracked.session, tracked.joined)
        self._maybe_all_stopped()

    def _maybe_all_stopped(self) -> None:
        if self.requested and not self._sessions and self.on_all_stopped is not None:
            self.on_all_stopped()


async def stop_session(session: InterviewSession, joined: bool) -> None:
    """Goodbye and a clean end once the candidate is there, else cancel at once.

    Scoring then gets a short budget (areas it cannot finish are recorded as missing), so the
    whole stop fits in the launcher's grace period even with an LLM judge."""
    session.evaluation_timeout = min(session.evaluation_timeout, STOPPED_EVALUATION_TIMEOUT_SECS)
    if session.ending:
        return  # already saying its goodbye: cutting it would only lose the last words
    if joined:
        await session.end("stopped", goodbye=STOPPED_GOODBYE, end_reason="stopped")
    else:
        await session.cancel(reason="stopped")
