"""What the servers that run many sessions on one port share: shutdown, the outcomes, `--once`.

The WebSocket server (a session per connection) and the phone server (a session per call)
differ in their app and in how a session starts; this holds the rest, so both stop the
same way: on SIGTERM no new session starts, every running one says goodbye and finishes
its record, then the server exits; with `once` the server stops after the first session.
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import FastAPI

from bots.graceful_stop import GracefulStop
from bots.loop_lag import LoopLagMonitor
from bots.pool_worker import PoolWorker
from bots.session import InterviewSession, SessionOutcome
from bots.suspended_record import finish_suspended_record
from bots.suspended_sessions import SuspendedSessions
from settings import Settings
from transports import TransportHandle
from transports.uvicorn_serving import serve_handed_connections, serve_until

# Far above any client or Twilio message (the serializer drops > 64 KiB); a bigger one closes that one socket (1009).
WS_MAX_MESSAGE_BYTES = 1024 * 1024


class SessionServer:
    """Runs sessions as the app accepts them and serves the app until stopped (or, with `once`, one is done)."""

    def __init__(
        self, *, once: bool = False, stop: GracefulStop | None = None, worker_channel_fd: int | None = None
    ) -> None:
        """`worker_channel_fd`: this process is a worker of `bots/worker_pool.py`; connections come from there."""
        self.once = once
        self.stop = stop or GracefulStop()
        self.outcomes: list[SessionOutcome] = []
        self._done = asyncio.Event()
        self.stop.on_all_stopped = self._done.set
        self.lag = LoopLagMonitor()
        self.worker = PoolWorker.from_fd(worker_channel_fd, self.lag) if worker_channel_fd is not None else None

    def track(self, session: InterviewSession, handle: TransportHandle) -> None:
        """A session is running: SIGTERM reaches it, and the pool (if any) knows its record."""
        self.stop.track(session, handle)
        if self.worker is not None:
            self.worker.session_started(str(session.record.directory))

    def untrack(self, session: InterviewSession) -> None:
        self.stop.untrack(session)
        if self.worker is not None:
            self.worker.session_ended(str(session.record.directory))

    def health_details(self) -> dict[str, object]:
        """What `/health` adds to the session count: this process's loop lag and, in a pool, every worker's load."""
        details: dict[str, object] = {"pid": os.getpid(), **self.lag.snapshot()}
        if self.worker is not None:
            details["workers"] = self.worker.pool
        return details

    async def run(self, start: Callable[[], Awaitable[SessionOutcome]]) -> None:
        """One session, unless shutting down; its outcome is kept and its record's place printed."""
        if self.stop.requested:
            return  # shutting down: no new sessions
        outcome = await start()
        if outcome.suspended:
            return  # the candidate may come back to it: not an outcome yet (`once` waits for it too)
        self.outcomes.append(outcome)
        print(f"Session record: {outcome.directory}", flush=True)
        if self.once:
            self._done.set()

    def suspensions(self, settings: Settings) -> SuspendedSessions:
        """Where this server's dropped sessions wait (`RECONNECT_GRACE_SECONDS`); one nobody comes back to is
        finished (reports written, end reason candidate_left) and counts as this server's outcome."""

        async def finish(directory: Path) -> None:
            await finish_suspended_record(settings, directory)
            self.suspended_session_finished(SessionOutcome(directory.name, directory, "candidate_left"))

        suspensions = SuspendedSessions(settings.reconnect_grace_seconds, finish)
        if self.worker is not None:
            suspensions.on_held, suspensions.on_released = self.worker.session_held, self.worker.session_released
        return suspensions

    def suspended_session_finished(self, outcome: SessionOutcome) -> None:
        """A suspended session's grace window ended with nobody back: its record is finished."""
        self.outcomes.append(outcome)
        print(f"Session record: {outcome.directory}", flush=True)
        if self.once:
            self._done.set()

    async def serve(
        self, app: FastAPI, host: str, port: int, on_ready: Callable[[int], None], sock: socket.socket | None = None
    ) -> list[SessionOutcome]:
        """Serve on host:port, or on `sock` if given (a worker: the pool's connections; the pool prints the ready
        line)."""
        self.stop.install()
        self.lag.start()
        try:
            if self.worker is None:
                await serve_until(app, host, port, self._done, on_ready, ws_max_size=WS_MAX_MESSAGE_BYTES, sock=sock)
            else:
                orphan_watch = asyncio.get_running_loop().create_task(self._stop_when_primary_goes(self.worker))
                await serve_handed_connections(app, self._done, self.worker.start, ws_max_size=WS_MAX_MESSAGE_BYTES)
                orphan_watch.cancel()
        finally:
            self.lag.stop()
            self.stop.uninstall()
        return self.outcomes

    async def _stop_when_primary_goes(self, worker: PoolWorker) -> None:
        """An orphaned worker would hold sessions nobody can reach or stop: end them like a SIGTERM."""
        await worker.primary_gone.wait()
        self.stop.request()
