"""The launcher's bot processes: start, watch, stop, reap, and kill the ones that overstay.

One `bot.py` child per session. Its stdout is copied to `bot.log` in the
session's launcher directory and read for three exact, whole lines: the bot is ready
("Interview server listening on ws://HOST:PORT/ws", which also says the port the bot
bound, or "Session ready: ..."), its candidate joined, and where its record is
("Session record: DIR", believed only for a folder directly inside SESSIONS_DIR, no
symlink, not claimed by another session). The reading never stops on a long line (the
bot's log may quote a candidate's message): output is read in chunks, each line capped
at `MAX_LOG_LINE_BYTES` in `bot.log`, and the pipe drained to the end, so a bot never
blocks writing its log. The session's state follows the process's exit, whatever the
reader did. When a child exits it is reaped at once, its exit status recorded (see
bots/exit_codes.py) and its `bot_token` file deleted. A child still alive past its session
is killed, so no interview keeps burning provider money; a WebSocket session nobody joins
within `join_timeout_seconds` is stopped (SIGTERM). "Past its session" counts
as the bot does: the session timeout runs from the candidate's join ("Candidate
joined" on its stdout; until then the room's join window), and scoring and the
reports follow the end, so the limit is join + timeout + evaluation + grace. `stop`
is SIGTERM (goodbye and a clean end), then SIGKILL after the grace.

A bot that dies before its session ended (killed, out of memory, any failure: its record has
a snapshot and no `session_ended`, and the launcher did not stop it) is replaced
(`launcher/restarts.py`): `bot.py ... --resume <record>`, the same command with the record to go
on from, up to `restart_attempts` times a session; then its record is finished as it stood
(`bot.py --close-record`, end reason bot_crashed) and the session is `failed` with that reason.
The record's folder is known from the bot's "Session record opened: DIR" line, checked like
the last one. A WebSocket session's listening socket is the launcher's (`launcher/listener.py`),
so its URLs are the same for every bot of the session.
"""

from __future__ import annotations

import asyncio
import json
import re
import signal
import socket
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

from loguru import logger

from bots.exit_codes import END_REASON_EXIT_CODES, reason_for_exit_code
from bots.session_timing import JOINED_LINE
from bots.session_timing import after_interview_seconds as default_after_interview_seconds
from launcher.child_process import spawn_bot
from launcher.child_secrets import TOKEN_FILE_NAME
from launcher.listener import close_quietly, listen_flags, session_listener, start_listening
from launcher.output_lines import capped_lines
from launcher.restarts import CRASH_END_REASON, NOT_RETRYABLE, close_crashed_record, record_unfinished
from launcher.warm_pool import WarmPool
from transports.candidate_page import page_url
from transports.room_api import ROOM_JOIN_WINDOW_SECONDS, is_room

SessionState = Literal["starting", "running", "restarting", "ended", "failed"]
LIVE_STATES = ("starting", "running", "restarting")
READY_LINE = re.compile(
    r"Interview server listening on ws://(?P<host>[0-9.]+|\[[0-9a-f:]+\]|[A-Za-z0-9.-]+):(?P<port>\d{1,5})/ws"
    r"(?: \(\d+ worker processes\))?|Session ready(?:: .*)?"
)
RECORD_LINE = re.compile(r"Session record(?: opened)?: (?P<path>\S+)")  # when opened (bots/runners.py), when closed
# A record folder's name: the bot's own ids (bots/session_record.py new_session_id) or the launcher's.
RECORD_NAME = re.compile(r"\d{8}-\d{6}-[0-9a-f]{6}|[0-9a-f]{12}")
ENDED_NORMALLY = frozenset(code for reason, code in END_REASON_EXIT_CODES.items() if reason != "error")
EXIT_POLL_SECONDS = 0.1
LAST_LINES_SECONDS = 2.0  # after the exit, the reader's time to reach the end of the pipe (the record line)


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
    restarts: int = 0  # replacement bots started for it (`bot.py --resume`)
    crashes: list[str] = field(default_factory=list)  # how each of its bots died before the session ended

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
        join_timeout_seconds: float | None = None,
        records_dir: Path | None = None,
        restart_attempts: int | None = None,
        bot_script: list[str] | None = None,
    ):
        """`join_timeout_seconds`: stop a WebSocket session nobody joined by then (None: the join window only).
        `records_dir`: SESSIONS_DIR, the only place a bot's record may be (None: no record is believed).
        `restart_attempts`: replacements for a session's bot that died (None: set by the app; 0: none).
        `bot_script`: how to run bot.py (for `--close-record`; None: set by the app)."""
        self.restart_attempts = restart_attempts
        self.bot_script = bot_script
        self.max_sessions = max_sessions
        self.join_timeout_seconds = join_timeout_seconds
        self.records_dir = records_dir
        self.grace_seconds = grace_seconds
        self.join_window_seconds = join_window_seconds
        self.after_interview_seconds = after_interview_seconds
        self._joined: dict[str, asyncio.Event] = {}
        self._clock = clock
        self.sessions: dict[str, LaunchedSession] = {}
        self._processes: dict[str, asyncio.subprocess.Process] = {}
        self._cwd: dict[str, Path] = {}
        self._commands: dict[str, tuple[list[str], dict[str, str]]] = {}  # what a replacement is started with
        self._listeners: dict[str, socket.socket] = {}  # a WebSocket session's socket (launcher/listener.py)
        self._tasks: set[asyncio.Task[None]] = set()
        self._reserved = 0

    @property
    def active(self) -> int:
        return sum(1 for s in self.sessions.values() if s.state in LIVE_STATES) + self._reserved

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
        listens = not is_room(session.transport)
        try:
            process, early_output, warm_token, listener = await self._child_for(command, env, cwd, warm, listens)
        finally:
            self.release()
        if warm_token is not None and listens:
            session.candidate_token = warm_token  # minted for that warm child (in its environment) at its start
            env = {**env, "WEBSOCKET_TOKEN": warm_token}  # ...and the one its replacements must accept
        if early_output is not None:
            session.warm = True
            with open(session.directory / "bot.log", "ab") as log:  # noqa: ASYNC230 - a few lines, once
                log.writelines(early_output)  # what the warm child printed before this session was its own
        self._joined[session.id] = asyncio.Event()
        self.sessions[session.id] = session
        self._cwd[session.id] = cwd
        self._commands[session.id] = (list(command), env)
        if listener is not None:
            self._listeners[session.id] = listener
        self._run(session, process)
        logger.info(f"launcher: session {session.id} ({session.transport}) started, pid {process.pid}")
        return session

    def _run(self, session: LaunchedSession, process: asyncio.subprocess.Process) -> None:
        """`process` is the session's bot now: watch its output and exit, and its time."""
        session.pid = process.pid
        self._processes[session.id] = process
        self._spawn(self._watch(session, process))
        self._spawn(self._watchdog(session, process))

    @staticmethod
    async def _child_for(
        command: Sequence[str], env: dict[str, str], cwd: Path, warm: WarmPool | None, listens: bool
    ) -> tuple[asyncio.subprocess.Process, list[bytes] | None, str | None, socket.socket | None]:
        """A warm child handed the command's flags (with what it printed already, its WebSocket token and
        socket), or a new child (None, None, its new socket): it has `env`. `listens`: a WebSocket session."""
        flags = warm.session_flags(command) if warm is not None else None
        if warm is not None and flags is not None:
            while (bot := warm.take()) is not None:
                listener = bot.listener if listens else None
                if listener is not None:
                    start_listening(listener)
                if await bot.hand_over([*flags, *listen_flags(listener)]):
                    if not listens:
                        close_quietly(bot.listener)  # a room session needs no socket of ours
                    return bot.process, bot.output, bot.websocket_token, listener
                close_quietly(bot.listener)
                logger.warning(f"launcher: warm bot pid {bot.process.pid} was gone at hand-over; trying another")
        listener = session_listener() if listens else None
        try:
            if listener is not None:
                start_listening(listener)
            process = await spawn_bot(
                [*command, *listen_flags(listener)], env, cwd, stdin=asyncio.subprocess.DEVNULL, listener=listener
            )
        except BaseException:
            close_quietly(listener)
            raise
        return process, None, None, listener

    async def stop(self, session_id: str, reason: str = "deleted") -> None:
        """SIGTERM (the bot says goodbye and ends), SIGKILL if still there after the grace period."""
        process = self._processes.get(session_id)
        session = self.sessions[session_id]
        if session.state in LIVE_STATES:
            session.killed = session.killed or reason  # also between a dead bot and its replacement: none starts
        if process is None or process.returncode is not None:
            return
        _signal(process, signal.SIGTERM)
        try:
            await asyncio.wait_for(exit_of(process), self.grace_seconds)
        except TimeoutError:
            logger.warning(f"launcher: session {session_id} ignored SIGTERM for {self.grace_seconds:g}s; killing")
            _signal(process, signal.SIGKILL)
            await exit_of(process)

    def request_stop(self, session_id: str, reason: str = "deleted") -> None:
        """`stop` in the background (DELETE answers at once)."""
        self._spawn(self.stop(session_id, reason))

    async def shutdown(self) -> None:
        """End every child (gracefully, then by force) and wait for the watchers."""
        await asyncio.gather(*(self.stop(sid, "launcher_shutdown") for sid in list(self.sessions)))
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for listener in self._listeners.values():
            close_quietly(listener)
        self._listeners.clear()

    # --- watching -------------------------------------------------------------------------

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _watch(self, session: LaunchedSession, process: asyncio.subprocess.Process) -> None:
        """Read the child's output and, independently, wait for its exit: the state follows the exit."""
        reader = asyncio.ensure_future(self._read_output(session, process))
        code = await exit_of(process)  # reaped by asyncio's child watcher, whatever the pipe's state
        try:
            await asyncio.wait_for(asyncio.shield(reader), LAST_LINES_SECONDS)  # its last lines (the record)
        except TimeoutError:  # a grandchild holds the pipe: stop reading, the session is over
            reader.cancel()
        except Exception:
            pass
        self._processes.pop(session.id, None)
        session.exit_code = code
        if session.killed is None and record_unfinished(session.record):
            session.crashes.append(reason_for_exit_code(code))
            await self._replace_or_close(session, code)
            return
        self._finished(session, code)

    def _finished(self, session: LaunchedSession, code: int, crash_closed: bool = False) -> None:
        """The session is over: its state and reason from how its last bot ended; its token and socket go."""
        self._cwd.pop(session.id, None)
        self._commands.pop(session.id, None)
        close_quietly(self._listeners.pop(session.id, None))
        _delete_token_file(session)
        session.exit_code, session.ended_at = code, self._clock()
        if crash_closed:
            session.state, session.exit_reason = "failed", CRASH_END_REASON
        elif session.killed == "session_timeout_exceeded":
            session.state, session.exit_reason = "failed", session.killed
        elif session.killed == "join_timeout":
            session.state, session.exit_reason = "ended", session.killed
        elif code < 0:  # killed by a signal: after a DELETE's grace, at shutdown, or from outside
            session.state, session.exit_reason = (
                "ended" if session.killed else "failed",
                session.killed or reason_for_exit_code(code),
            )
        else:
            session.state = "ended" if code in ENDED_NORMALLY else "failed"
            session.exit_reason = _reason(code, session.record)
        logger.info(f"launcher: session {session.id} exited {code} ({session.exit_reason}), state {session.state}")

    async def _replace_or_close(self, session: LaunchedSession, code: int) -> None:
        """A bot died mid-session: start its replacement from the record, or, past the attempts (or an exit a
        retry cannot mend), finish the record as it stood and fail the session with `bot_crashed`."""
        assert session.record is not None
        attempts = self.restart_attempts or 0
        if session.restarts >= attempts or code in NOT_RETRYABLE:
            logger.warning(
                f"launcher: session {session.id}: bot exited {code} ({reason_for_exit_code(code)}) after "
                f"{session.restarts} of {attempts} replacements; finishing its record as it stood"
            )
            session.state = "restarting"  # still holding its slot while the record is scored and closed
            await close_crashed_record(Path(session.record), lambda argv: self._run_to_end(session, argv), self._script)
            self._finished(session, code, crash_closed=True)
            return
        command, env = self._commands[session.id]
        session.restarts += 1
        session.state = "restarting"
        listener = self._listeners.get(session.id)
        argv = [*command, "--resume", session.record, *listen_flags(listener)]
        try:
            process = await spawn_bot(
                argv, env, self._cwd[session.id], stdin=asyncio.subprocess.DEVNULL, listener=listener
            )
        except OSError as exc:
            logger.error(f"launcher: session {session.id}: could not start a replacement: {exc}")
            await self._replace_or_close(session, code)  # counts as an attempt: bounded by restart_attempts
            return
        if session.killed is not None:  # stopped while the replacement was starting
            _signal(process, signal.SIGTERM)
        logger.warning(
            f"launcher: session {session.id}: bot exited {code} ({reason_for_exit_code(code)}) mid-session; "
            f"replacement {session.restarts} of {attempts}, pid {process.pid}, resumes {session.record}"
        )
        self._run(session, process)

    @property
    def _script(self) -> list[str]:
        if self.bot_script is None:
            raise RuntimeError("the supervisor has no bot_script to close a record with")
        return self.bot_script

    async def _run_to_end(self, session: LaunchedSession, argv: Sequence[str]) -> int | None:
        """A one-off bot child of `session` (its env, output to its bot.log); its exit status, None if killed
        when cancelled (the caller's timeout)."""
        _command, env = self._commands[session.id]
        process = await spawn_bot(argv, env, self._cwd[session.id], stdin=asyncio.subprocess.DEVNULL)
        reader = asyncio.ensure_future(self._read_output(session, process))
        try:
            return await exit_of(process)
        except asyncio.CancelledError:
            _signal(process, signal.SIGKILL)
            raise
        finally:
            await asyncio.gather(reader, return_exceptions=True)

    async def _read_output(self, session: LaunchedSession, process: asyncio.subprocess.Process) -> None:
        """Copy the child's output to bot.log (lines capped) and act on its lines; drain the pipe to the end.

        Nothing here may stop the draining: a failing log write or line handler is logged
        once and the reading goes on, or the child would block on a full pipe."""
        assert process.stdout is not None
        handler_failed = False
        log: IO[bytes] | None
        try:
            log = open(session.directory / "bot.log", "ab")  # noqa: ASYNC230, SIM115 - once; line writes are tiny
        except OSError as exc:
            log = None
            logger.error(f"launcher: session {session.id}: cannot open bot.log ({exc}); draining its output anyway")
        try:
            async for line in capped_lines(process.stdout):
                if log is not None:
                    try:
                        log.write(line)
                        log.flush()
                    except OSError as exc:
                        _closed(log)
                        log = None
                        logger.error(f"launcher: session {session.id}: bot.log write failed ({exc}); still draining")
                try:
                    self._on_line(session, line.decode(errors="replace").rstrip("\r\n"))
                except Exception:
                    if not handler_failed:
                        handler_failed = True
                        logger.exception(f"launcher: session {session.id}: reading its output failed; still draining")
        finally:
            if log is not None:
                _closed(log)

    def _on_line(self, session: LaunchedSession, line: str) -> None:
        """One whole line of the bot's output: ready (and its port), joined, or its record."""
        if session.state in ("starting", "restarting") and (ready := READY_LINE.fullmatch(line)):
            session.state, session.ready_at = "running", self._clock()
            if ready.group("port") and not is_room(session.transport):
                _set_websocket_urls(session, ready.group("host"), int(ready.group("port")))
        elif session.joined_at is None and line.startswith(f"{JOINED_LINE}: "):
            session.joined_at = self._clock()
            self._joined[session.id].set()
        elif claim := RECORD_LINE.fullmatch(line):
            record = self._believed_record(session, claim.group("path"))
            if record is not None:
                session.record = str(record)
        elif "Session record:" in line:
            logger.warning(f"launcher: session {session.id}: ignored a record claim that is not a whole line")

    def _believed_record(self, session: LaunchedSession, claimed: str) -> Path | None:
        """The record folder a bot names, if it is one: directly in SESSIONS_DIR, a real folder, not another's."""
        why = None
        path = Path(claimed)
        if not path.is_absolute():
            path = self._cwd.get(session.id, Path.cwd()) / path
        if self.records_dir is None:
            why = "the launcher has no records folder"
        elif path.is_symlink():
            why = "it is a symlink"
        else:
            resolved = path.resolve()
            taken = {s.record for s in self.sessions.values() if s.id != session.id}
            if resolved.parent != self.records_dir.resolve():
                why = f"it is not directly in {self.records_dir}"
            elif not RECORD_NAME.fullmatch(resolved.name):
                why = "its name is not a session record's"
            elif not resolved.is_dir():
                why = "it is not a folder"
            elif str(resolved) in taken:
                why = "another session's record"
            else:
                return resolved
        logger.warning(f"launcher: session {session.id}: ignored record claim {claimed[:200]!r}: {why}")
        return None

    async def _watchdog(self, session: LaunchedSession, process: asyncio.subprocess.Process) -> None:
        """Kill a child that outlives its session: join (or the join window) + timeout + scoring + grace."""
        session_limit = session.timeout_seconds + self.after_interview_seconds + self.grace_seconds
        exited = asyncio.ensure_future(exit_of(process))
        joined = asyncio.ensure_future(self._joined[session.id].wait())
        window = self.join_window_seconds + session_limit
        join_timeout = None if is_room(session.transport) else self.join_timeout_seconds
        try:
            first_wait = window if join_timeout is None else min(window, join_timeout)
            await asyncio.wait({exited, joined}, timeout=first_wait, return_when=asyncio.FIRST_COMPLETED)
            if not (exited.done() or joined.done()) and join_timeout is not None and join_timeout < window:
                logger.warning(f"launcher: session {session.id}: nobody joined within {join_timeout:g}s; stopping")
                session.killed = "join_timeout"
                await self.stop(session.id, "join_timeout")
                return
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


async def exit_of(process: asyncio.subprocess.Process) -> int:
    """The child's exit status once it is reaped, without waiting for its pipes to close.

    `Process.wait()` returns only after stdout is drained and closed, so a stalled reader
    would make a dead child look alive; its return code is set as soon as it is reaped."""
    while process.returncode is None:  # noqa: ASYNC110 - set by the child watcher; no event to await
        await asyncio.sleep(EXIT_POLL_SECONDS)
    return process.returncode


def _set_websocket_urls(session: LaunchedSession, host: str, port: int) -> None:
    """The bot's own bound port, with the session's token: the page for the candidate, /ws for programs."""
    query = f"?token={session.candidate_token}" if session.candidate_token else ""
    session.ws_url = f"ws://{host}:{port}/ws{query}"
    session.join_url = page_url(host, port) + query


def _closed(log: IO[bytes]) -> None:
    try:
        log.close()
    except OSError:
        pass


def _delete_token_file(session: LaunchedSession) -> None:
    """A room's bot token is of no use once its session ended, and must not lie around."""
    try:
        (session.directory / TOKEN_FILE_NAME).unlink(missing_ok=True)
    except OSError as exc:
        logger.warning(f"launcher: session {session.id}: could not delete its bot token file: {exc}")


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
