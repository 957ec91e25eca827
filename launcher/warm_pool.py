"""The launcher's warm pool: bot processes started before their sessions, handed one when it comes.

Why: a cold `bot.py` child takes seconds (interpreter, imports, models) between `POST
/sessions` and the greeting. The pool keeps ``size`` children started as ``bot.py --warm``
(:mod:`bots.warm_start`): loaded, idle, waiting on stdin. :meth:`take` gives the session
one that is ready and starts its replacement a few seconds later (once the session is up); the session's flags go to it as one
JSON line (:meth:`WarmBot.hand_over`). No ready bot (pool empty, still warming, size 0)
means a cold start, so a session is never refused for want of a warm one.

A warm child that exits before its session (a crash, a missing model) is logged with the
end of its output and replaced after a back-off (1 s doubling to 60 s), so a broken
setup does not spin. Idle warm children are not sessions: they do not count against
`LAUNCHER_MAX_SESSIONS`; each holds its models' memory.

A WebSocket session's token must be in its bot's environment (never argv), and a warm child's
environment is fixed before its session exists: so each warm child is started with a fresh
WEBSOCKET_TOKEN of its own (:attr:`WarmBot.websocket_token`), which becomes the token of the
one session it runs. For the same reason each warm child inherits a socket of its own
(:attr:`WarmBot.listener`, :mod:`launcher.listener`): a WebSocket session run by it listens
there, and the launcher keeps it for the session's replacements. Children die with the launcher
(:mod:`launcher.child_process`).
"""

from __future__ import annotations

import asyncio
import json
import secrets
import socket
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loguru import logger

from bots.warm_start import WARM_READY_LINE
from launcher.child_process import spawn_bot
from launcher.listener import close_quietly, session_listener
from launcher.output_lines import capped_lines

FIRST_RETRY_SECONDS, MAX_RETRY_SECONDS = 1.0, 60.0
# A taken child's replacement waits this long, so its model loading (seconds of CPU on 2 cores)
# does not compete with the session that is starting.
REPLACE_AFTER_SECONDS = 3.0
OUTPUT_TAIL_LINES = 20  # of a warm child that died before its session, in the launcher's log


@dataclass
class WarmBot:
    """One warm child: its process and what it printed while warming up (for the session's bot.log)."""

    process: asyncio.subprocess.Process
    output: list[bytes] = field(default_factory=list)
    warm_seconds: float | None = None  # spawn -> ready line
    websocket_token: str | None = None  # its WEBSOCKET_TOKEN: the token of the session it will run
    listener: socket.socket | None = None  # its inherited socket: a WebSocket session's (`--listen-fd`)

    async def hand_over(self, argv: Sequence[str]) -> bool:
        """Send the session's flags and close its stdin; False if the child is already gone."""
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(json.dumps({"argv": list(argv)}).encode() + b"\n")
            await self.process.stdin.drain()
            self.process.stdin.close()
        except (BrokenPipeError, ConnectionResetError):
            return False
        return self.process.returncode is None


class WarmPool:
    """Keeps ``size`` warm `bot.py --warm` children ready; all methods run on the launcher's loop."""

    def __init__(
        self,
        size: int,
        *,
        command: Sequence[str],
        env: dict[str, str],
        cwd: Path,
        clock: Callable[[], float] = time.monotonic,
        replace_after_seconds: float = REPLACE_AFTER_SECONDS,
    ) -> None:
        self.size = size
        self.replace_after_seconds = replace_after_seconds
        self.command = list(command)
        self._env, self._cwd, self._clock = env, cwd, clock
        self._ready: list[WarmBot] = []
        self._warming = 0
        self._retry_seconds = FIRST_RETRY_SECONDS
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False

    @property
    def ready(self) -> int:
        return len(self._ready)

    def status(self) -> dict[str, int]:
        return {"size": self.size, "ready": self.ready, "warming": self._warming}

    def session_flags(self, command: Sequence[str]) -> list[str] | None:
        """A session command's flags to hand to a warm child, or None if the command is not this pool's bot."""
        prefix = self.command[:-1]  # the interpreter and bot.py, without --warm
        if self.size == 0 or list(command[: len(prefix)]) != prefix:
            return None
        return list(command[len(prefix) :])

    def fill(self) -> None:
        """Start children until ready + warming reaches ``size``."""
        while not self._closed and self.ready + self._warming < self.size:
            self._warming += 1
            self._spawn(self._warm_one())

    def take(self) -> WarmBot | None:
        """A ready warm child (its replacement starts after ``replace_after_seconds``), or None: start cold."""
        while self._ready:
            bot = self._ready.pop(0)
            if bot.process.returncode is None:
                self._spawn(self._fill_after(self.replace_after_seconds))
                return bot
        self.fill()
        return None

    async def _fill_after(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
        self.fill()

    async def shutdown(self) -> None:
        """Stop the idle children (closing stdin lets them exit 0) and the warming ones."""
        self._closed = True
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        idle, self._ready = self._ready, []
        for bot in idle:
            await _end(bot.process)
            close_quietly(bot.listener)

    # --- warming -------------------------------------------------------------------------

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _warm_one(self) -> None:
        started = self._clock()
        token, listener = new_websocket_token(), session_listener()
        try:
            process = await spawn_bot(
                self.command,
                {**self._env, "WEBSOCKET_TOKEN": token},
                self._cwd,
                stdin=asyncio.subprocess.PIPE,
                listener=listener,
            )
        except BaseException:
            close_quietly(listener)
            raise
        bot = WarmBot(process, websocket_token=token, listener=listener)
        try:
            ready = await self._read_until_ready(bot)
        except asyncio.CancelledError:
            await _end(process)
            close_quietly(listener)
            raise
        finally:
            self._warming -= 1
        if ready:
            bot.warm_seconds = self._clock() - started
            self._retry_seconds = FIRST_RETRY_SECONDS
            self._ready.append(bot)
            await process.wait()  # idle until handed over; exiting idle (killed from outside) is replaced
            if bot in self._ready:
                self._ready.remove(bot)
                close_quietly(listener)
                logger.warning(f"launcher: an idle warm bot exited {process.returncode}; replacing it")
                self.fill()
            return
        close_quietly(listener)
        code = await process.wait()
        tail = b"".join(bot.output[-OUTPUT_TAIL_LINES:]).decode(errors="replace").rstrip()
        logger.warning(
            f"launcher: a warm bot exited {code} before its session; retrying in {self._retry_seconds:g}s. "
            f"Its last output:\n{tail}"
        )
        await asyncio.sleep(self._retry_seconds)
        self._retry_seconds = min(MAX_RETRY_SECONDS, 2 * self._retry_seconds)
        self.fill()

    @staticmethod
    async def _read_until_ready(bot: WarmBot) -> bool:
        assert bot.process.stdout is not None
        async for raw in capped_lines(bot.process.stdout):
            bot.output.append(raw)
            if WARM_READY_LINE.encode() in raw:
                return True
        return False


def new_websocket_token() -> str:
    """A session's WebSocket token: 256 random bits, URL-safe (it rides in the join URL's query)."""
    return secrets.token_urlsafe(32)


async def _end(process: asyncio.subprocess.Process) -> None:
    if process.returncode is not None:
        return
    if process.stdin is not None and not process.stdin.is_closing():
        process.stdin.close()  # end of input: an idle warm bot exits 0
    try:
        await asyncio.wait_for(process.wait(), 5)
    except TimeoutError:
        process.kill()
        await process.wait()
