"""The launcher's bot processes: start, watch, stop, reap, and kill the ones that overstay.

One `bot.py` child per session. Its stdout is copied to `bot.log` in the
session's launcher directory and read for two lines: the bot is ready
("Interview server listening on ..." / "Session ready") and where its record is
("Session record: DIR"). When a child exits it is reaped at once and its exit
status recorded (see bots/exit_codes.py). A child still alive past its session
is killed, so no interview keeps burning provider money. "Past its session" counts
as the bot does: the session timeout runs from the candidate's join ("Candidate
joined" on its stdout; until then the room's join window), and scoring and the
reports follow the end, so the limit is join + timeout + evaluation + grace. `stop`
is SIGTERM (goodbye and a clean end), then SIGKILL after the grace.
"""

from __future__ import annotations

import asyncio
import json
import re
import signal
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from loguru import logger

from bots.exit_codes import END_REASON_EXIT_CODES, reason_for_exit_code
from bots.session_timing import JOINED_LINE
from bots.session_timing import after_interview_seconds as default_after_interview_seconds
from launcher.warm_pool import WarmPool
from transports.room_api import ROOM_JOIN_WINDOW_SECONDS

SessionState = Literal["starting", "running", "ended", "failed"]
READY_LINE = re.compile(r"listening on (ws://\S+)|Session ready")
RECORD_LINE = re.compile(r"Session record: (\S+)")
JOINED = re.compile(re.escape(JOINED_LINE))
ENDED_NORMALLY = frozenset(code for reason, code in END_REASON_EXIT_CODES.items() if reason != "error")


@dataclass
class LaunchedSession:
    id: str
    transport: str
    room: str | None
    join_url: str | None
    candidate_token: str | None
    timeout_seconds: float
    directory: Path
    ws_url: str | None = None  # websocket sessions: the bot's /ws (join_url is the candidate page)
    pid: int | None = None
    state: SessionState = "starting"
    exit_code: int | None = None
    exit_reason: str | None = None
    record: str | None = None
    created_at: float = field(default_factory=time.time)
    ready_at: float | None = None
    joined_at: float | None = None  # when the bot said its candidate arrived
    ended_at: float | None = None
    killed: str | None = None  # why the launcher killed it, if it did
    warm: bool = False  # run by a warm-pool child (started before the request)

    def public(self) -> dict[str, object]:
        data = asdict(self)
        data["directory"] = str(self.directory)
        data["log"] = str(self.directory / "bot.log")
        return data


class Supervisor:
    """Owns every bot child; all methods run on the launcher's event loop."""

    def __init__(
        self,
        *,
        max_sessions: int,
        grace_seconds: float,
        clock: Callable[[], float] = time.time,
        join_window_seconds: float = ROOM_JOIN_WINDOW_SECONDS,
        after_interview_seconds: float = default_after_interview_seconds(),
    ):
        self.max_sessions = max_sessions
        self.grace_seconds = grace_seconds
        self.join_window_seconds = join_window_seconds
        self.after_interview_seconds = after_interview_seconds
        self._joined: dict[str, asyncio.Event] = {}
        self._clock = clock
        self.sessions: dict[str, LaunchedSession] = {}
        self._processes: dict[str, asyncio.subprocess.Process] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._reserved = 0

    @property
    def active(self) -> int:
        return sum(1 for s in self.sessions.values() if s.state in ("starting", "running")) + self._reserved

    def reserve(self) -> bool:
        """Claim a slot before slow work (room creation) so concurrent requests cannot overshoot."""
        if self.active >= self.max_sessions:
            return False
        self._reserved += 1
        return True

    def release(self) -> None:
        self._reserved -= 1

    async def start(
        self,
        session: LaunchedSession,
        command: Sequence[str],
        env: dict[str, str],
        cwd: Path,
        warm: WarmPool | None = None,
    ) -> LaunchedSession:
        """Run the session in a ready child of ``warm`` if it has one, else spawn one; watch it.

        Uses a slot reserved with `reserve`."""
        session.directory.mkdir(parents=True, exist_ok=True)
        try:
            process, early_output = await self._child_for(command, env, cwd, warm)
        finally:
            self.release()
        session.pid = process.pid
        if early_output is not None:
            session.warm = True
            with open(session.directory / "bot.log", "ab") as log:  # noqa: ASYNC230 - a few lines, once
                log.writelines(early_output)  # what the warm child printed before this session was its own
        self._joined[session.id] = asyncio.Event()
        self.sessions[session.id] = session
        self._processes[session.id] = process
        self._spawn(self._watch(session, process))
        self._spawn(self._watchdog(session, process))
        logger.info(f"launcher: session {session.id} ({session.transport}) started, pid {process.pid}")
        return session

    @staticmethod
    async def _child_for(
        command: Sequence[str], env: dict[str, str], cwd: Path, warm: WarmPool | None
    ) -> tuple[asyncio.subprocess.Process, list[bytes] | None]:
        """A warm child handed the command's flags (with what it printed already), or a new child (None)."""
        flags = warm.session_flags(command) if warm is not None else None
        if warm is not None and flags is not None:
            while (bot := warm.take()) is not None:
                if await bot.hand_over(flags):
                    return bot.process, bot.output
                logger.warning(f"launcher: warm bot pid {bot.process.pid} was gone at hand-over; trying another")
        process = await asyncio.create_subprocess_exec(
            *command,
            cwd=cwd,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,  # a Ctrl-C on the launcher reaches the launcher, which ends children itself
        )
        return process, None

    async def stop(self, session_id: str, reason: str = "deleted") -> None:
        """SIGTERM (the bot says goodbye and ends), SIGKILL if still there after the grace period."""
        process = self._processes.get(session_id)
        session = self.sessions[session_id]
        if process is None or process.returncode is not None:
            return
        session.killed = session.killed or reason
        _signal(process, signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), self.grace_seconds)
        except TimeoutError:
            logger.warning(f"launcher: session {session_id} ignored SIGTERM for {self.grace_seconds:g}s; killing")
            _signal(process, signal.SIGKILL)
            await process.wait()

    def request_stop(self, session_id: str, reason: str = "deleted") -> None:
        """`stop` in the background (DELETE answers at once)."""
        self._spawn(self.stop(session_id, reason))

    async def shutdown(self) -> None:
        """End every child (gracefully, then by force) and wait for the watchers."""
        await asyncio.gather(*(self.stop(sid, "launcher_shutdown") for sid in list(self._processes)))
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # --- watching -------------------------------------------------------------------------

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _watch(self, session: LaunchedSession, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None
        with open(session.directory / "bot.log", "ab") as log:  # noqa: ASYNC230 - opened once; line writes are tiny
            async for raw in process.stdout:
                log.write(raw)
                log.flush()
                line = raw.decode(errors="replace")
                if session.state == "starting" and (match := READY_LINE.search(line)):
                    session.state, session.ready_at = "running", self._clock()
                    if match.group(1) and session.transport == "websocket":
                        session.ws_url = match.group(1)
                if session.joined_at is None and JOINED.search(line):
                    session.joined_at = self._clock()
                    self._joined[session.id].set()
                if match := RECORD_LINE.search(line):
                    session.record = match.group(1)
        code = await process.wait()  # reaps the child
        self._processes.pop(session.id, None)
        session.exit_code, session.ended_at = code, self._clock()
        if session.killed == "session_timeout_exceeded":
            session.state, session.exit_reason = "failed", session.killed
        elif code < 0:  # killed by a signal: after a DELETE's grace, at shutdown, or from outside
            session.state, session.exit_reason = (
                "ended" if session.killed else "failed",
                session.killed or reason_for_exit_code(code),
            )
        else:
            session.state = "ended" if code in ENDED_NORMALLY else "failed"
            session.exit_reason = _reason(code, session.record)
        logger.info(f"launcher: session {session.id} exited {code} ({session.exit_reason}), state {session.state}")

    async def _watchdog(self, session: LaunchedSession, process: asyncio.subprocess.Process) -> None:
        """Kill a child that outlives its session: join (or the join window) + timeout + scoring + grace."""
        session_limit = session.timeout_seconds + self.after_interview_seconds + self.grace_seconds
        exited = asyncio.ensure_future(process.wait())
        joined = asyncio.ensure_future(self._joined[session.id].wait())
        try:
            await asyncio.wait(
                {exited, joined}, timeout=self.join_window_seconds + session_limit, return_when=asyncio.FIRST_COMPLETED
            )
            if not exited.done() and joined.done():  # the bot's clock starts now: count from here
                await asyncio.wait({exited}, timeout=session_limit)
            if exited.done():
                return
            limit = (
                f"{session_limit:g}s after the join"
                if joined.done()
                else f"{self.join_window_seconds + session_limit:g}s without a join"
            )
            logger.warning(f"launcher: session {session.id} outlived {limit}; killing pid {process.pid}")
            session.killed = "session_timeout_exceeded"
            _signal(process, signal.SIGKILL)
        finally:
            for task in (exited, joined):
                task.cancel()


def _signal(process: asyncio.subprocess.Process, sig: signal.Signals) -> None:
    try:
        process.send_signal(sig)
    except ProcessLookupError:
        pass


def _reason(code: int, record: str | None) -> str:
    """The bot's own end reason from its record's `session_ended` event, else what the exit code says."""
    if record is not None:
        try:
            lines = (Path(record) / "events.jsonl").read_text(encoding="utf-8").splitlines()
            for line in reversed(lines):
                event = json.loads(line)
                if event.get("type") == "session_ended" and event.get("reason"):
                    return str(event["reason"])
        except (OSError, ValueError):
            pass
    return reason_for_exit_code(code)
