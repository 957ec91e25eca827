"""What the servers that run many sessions on one port share: shutdown, the outcomes, `--once`.

The WebSocket server (a session per connection) and the phone server (a session per call)
differ in their app and in how a session starts; this holds the rest, so both stop the
same way: on SIGTERM no new session starts, every running one says goodbye and finishes
its record, then the server exits; with `once` the server stops after the first session.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from fastapi import FastAPI

from bots.graceful_stop import GracefulStop
from bots.session import SessionOutcome
from transports.uvicorn_serving import serve_until

# Far above any client or Twilio message (the serializer drops > 64 KiB); a bigger one closes that one socket (1009).
WS_MAX_MESSAGE_BYTES = 1024 * 1024


class SessionServer:
    """Runs sessions as the app accepts them and serves the app until stopped (or, with `once`, one is done)."""

    def __init__(self, *, once: bool = False, stop: GracefulStop | None = None) -> None:
        self.once = once
        self.stop = stop or GracefulStop()
        self.outcomes: list[SessionOutcome] = []
        self._done = asyncio.Event()
        self.stop.on_all_stopped = self._done.set

    async def run(self, start: Callable[[], Awaitable[SessionOutcome]]) -> None:
        """One session, unless shutting down; its outcome is kept and its record's place printed."""
        if self.stop.requested:
            return  # shutting down: no new sessions
        outcome = await start()
        self.outcomes.append(outcome)
        print(f"Session record: {outcome.directory}", flush=True)
        if self.once:
            self._done.set()

    async def serve(self, app: FastAPI, host: str, port: int, on_ready: Callable[[int], None]) -> list[SessionOutcome]:
        self.stop.install()
        try:
            await serve_until(app, host, port, self._done, on_ready, ws_max_size=WS_MAX_MESSAGE_BYTES)
        finally:
            self.stop.uninstall()
        return self.outcomes
