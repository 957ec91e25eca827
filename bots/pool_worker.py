"""A worker's side of the pool (`bots/worker_pool.py`): take handed connections, report sessions and load.

The worker runs the same server app as a single process does; only where its
connections come from differs. It tells the primary when it is ready (models loaded),
when a session starts and ends (the record's folder, so a death can close it) and its
running count and loop lag, at once on change and every second.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from pathlib import Path

from bots.loop_lag import LoopLagMonitor
from bots.worker_channel import Message, WorkerChannel

LOAD_REPORT_SECONDS = 1.0


class PoolWorker:
    def __init__(self, channel: WorkerChannel, lag: LoopLagMonitor) -> None:
        self.channel = channel
        self.lag = lag
        self.active = 0
        self.pool: list[dict[str, object]] = []  # every worker's load, as of the last handed connection
        self._serve: Callable[[socket.socket], None] | None = None
        self._reporter: asyncio.Task[None] | None = None

    @classmethod
    def from_fd(cls, fd: int, lag: LoopLagMonitor) -> PoolWorker:
        return cls(WorkerChannel.from_fd(fd), lag)

    def start(self, serve_socket: Callable[[socket.socket], None]) -> None:
        """Serving is up: take connections, tell the primary this worker is ready."""
        self._serve = serve_socket
        self.channel.listen(self._on_message)
        self._send({"type": "ready"})
        self._reporter = asyncio.get_running_loop().create_task(self._report_load())

    def session_started(self, record: str) -> None:
        self.active += 1
        self._send({"type": "session_started", "record": record})

    def session_ended(self, record: str) -> None:
        self.active -= 1
        self._send({"type": "session_ended", "record": record})

    def session_held(self, key: str, record: Path) -> None:
        """A dropped session waits here for the candidate with `key`: the primary routes their return to us."""
        self._send({"type": "session_held", "key": key, "record": str(record)})

    def session_released(self, key: str) -> None:
        self._send({"type": "session_released", "key": key})

    @property
    def primary_gone(self) -> asyncio.Event:
        return self.channel.closed

    def _send(self, message: Message) -> None:
        self.channel.send({**message, "active": self.active, "load": self.lag.snapshot()})

    def _on_message(self, message: Message, attached: socket.socket | None) -> None:
        if message.get("type") == "connection" and attached is not None and self._serve is not None:
            self.pool = list(message.get("pool", []))
            self._serve(attached)

    async def _report_load(self) -> None:
        while not self.channel.closed.is_set():
            await asyncio.sleep(LOAD_REPORT_SECONDS)
            self._send({"type": "load"})
