"""Sessions whose candidate dropped out, held for the grace window under an unguessable resume token.

A WebSocket candidate whose connection drops without End or goodbye (a reloaded tab, a network
blip) comes back with `?resume=<token>` within `RECONNECT_GRACE_SECONDS`; the server rebuilds the
session from its record folder (`InterviewSession.resume`) and the interview goes on. A token
is good for one return; each resumed session gets a new one. Nobody back in time: the record is
finished as the interview stood (`finish_suspended_record`: evaluation, latency, report).

Tokens are held as their digests (`bots/resume_tokens.py`): a replacement for a bot that died
knows its session's token only by the digest in the record, and holds it the same way
(`hold_digest`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from loguru import logger

from bots import resume_tokens
from transports.common import SessionRefused

LIVE_WAIT_SECS = 15.0


@dataclass
class _Held:
    directory: Path
    deadline: float
    expiry: asyncio.Task[None]


class SuspendedSessions:
    """Resume tokens (by digest) -> suspended record folders, each finished when its grace window ends."""

    def __init__(self, grace_secs: float, finish: Callable[[Path], Awaitable[None]]) -> None:
        self.grace_secs = grace_secs
        self._finish = finish
        self._held: dict[str, _Held] = {}
        self._live: dict[str, asyncio.Event] = {}  # tokens of sessions still running: a return may beat the drop
        self._finishing: set[asyncio.Task[None]] = set()  # records finished early (see `hold_digest`)
        # A pool's primary routes a return to the worker holding it (`bots/resume_routing.py`).
        self.on_held: Callable[[str, Path], None] | None = None
        self.on_released: Callable[[str], None] | None = None

    @property
    def enabled(self) -> bool:
        return self.grace_secs > 0

    @staticmethod
    def new_token() -> str:
        return resume_tokens.new_token()

    def started(self, token: str) -> None:
        """A session holding `token` runs: a reconnect with it waits for the session to notice its drop."""
        self.started_digest(resume_tokens.digest(token))

    def started_digest(self, key: str) -> None:
        self._live[key] = asyncio.Event()

    def ended(self, token: str) -> None:
        """The session holding `token` ended for good: its token resumes nothing."""
        self.ended_digest(resume_tokens.digest(token))

    def ended_digest(self, key: str) -> None:
        event = self._live.pop(key, None)
        if event is not None:
            event.set()

    def holds_digest(self, key: str) -> bool:
        """A dropped session waits for `key` (a running one does not count: see `claim`)."""
        return key in self._held

    def hold(self, token: str, directory: Path) -> None:
        """The candidate of `directory` dropped out: wait `grace_secs` for `token` to come back."""
        self.hold_digest(resume_tokens.digest(token), directory)

    def hold_digest(self, key: str, directory: Path) -> None:
        """Hold `directory` for the token whose digest is `key` (a replacement bot knows no more)."""
        loop = asyncio.get_running_loop()
        previous = self._held.pop(key, None)
        if previous is not None:  # one caller's two calls both dropped: only the last can be called back to
            previous.expiry.cancel()
            finishing = loop.create_task(self._finish_quietly(previous.directory))
            self._finishing.add(finishing)
            finishing.add_done_callback(self._finishing.discard)
        deadline = time.monotonic() + self.grace_secs
        expiry = loop.create_task(self._expire(key), name=f"resume-window-{directory.name}")
        self._held[key] = _Held(directory, deadline, expiry)
        self.ended_digest(key)
        if self.on_held is not None:
            self.on_held(key, directory)

    async def claim(self, token: str) -> Path:
        """The record folder `token` resumes (once); SessionRefused for an unknown, used or expired token.

        The candidate's page may come back before the server has seen the old socket close (a reload is
        fast): a token of a session still running waits for it, up to `LIVE_WAIT_SECS`."""
        return await self.claim_digest(resume_tokens.digest(token))

    async def claim_digest(self, key: str) -> Path:
        """`claim` for the token whose digest is `key` (a phone caller is known by `caller_key`)."""
        live = self._live.get(key)
        if live is not None:
            try:
                await asyncio.wait_for(live.wait(), LIVE_WAIT_SECS)
            except TimeoutError:
                raise SessionRefused("this interview is still connected elsewhere") from None
        held = self._held.pop(key, None)
        if held is None:
            raise SessionRefused("this interview cannot be resumed: the link is unknown, used or expired")
        held.expiry.cancel()
        self._released(key)
        return held.directory

    def _released(self, key: str) -> None:
        if self.on_released is not None:
            self.on_released(key)

    def held_count(self) -> int:
        return len(self._held)

    async def finish_all(self) -> None:
        """The server stops: every held session is finished now (nobody can come back to a stopped server)."""
        for key in list(self._held):
            held = self._held.pop(key)
            held.expiry.cancel()
            self._released(key)
            await self._finish_quietly(held.directory)
        if self._finishing:
            await asyncio.gather(*self._finishing)

    async def _expire(self, key: str) -> None:
        await asyncio.sleep(self.grace_secs)
        held = self._held.pop(key, None)
        if held is not None:
            self._released(key)
            logger.info(f"session {held.directory.name}: nobody came back within {self.grace_secs:g} s")
            await self._finish_quietly(held.directory)

    async def _finish_quietly(self, directory: Path) -> None:
        try:
            await self._finish(directory)
        except Exception:  # the record keeps what it has; the next run of the launcher closes it
            logger.exception(f"session {directory.name}: finishing the suspended record failed")
