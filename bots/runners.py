"""How sessions are started per transport kind.

Connection-accepting transports (websocket) run a server with a session per
connection; room-joining ones (daily, livekit) run exactly one session in this
process and return its outcome.

A replacement for a bot that died (`bot.py --resume DIR`, started by the launcher) runs the
same code with the record folder given: a WebSocket server holds that session for its
candidate's last resume token (known by its digest in the record) and takes no other; a room
bot rebuilds the session and rejoins the room. Every session says where its record is as
soon as it has one ("Session record opened: DIR"), so the launcher knows what to resume.
"""

from __future__ import annotations

import socket
from pathlib import Path

from bots.exit_codes import EXIT_RESUME
from bots.graceful_stop import GracefulStop
from bots.resume_tokens import TokenFileError, forget_token_digest, read_token_digest, save_token_digest
from bots.serving import ServeError
from bots.session import InterviewSession, SessionOutcome
from bots.session_server import SessionServer
from bots.suspended_sessions import SuspendedSessions
from interview.config import InterviewConfig, Persona
from interview.session_snapshot import SnapshotError
from settings import Settings
from transports import TransportHandle, create_transport
from transports.candidate_page import page_unavailable_reason, page_url
from transports.common import SessionRefused
from transports.input_limits import InputLimits
from transports.websocket_server import build_websocket_app

OPENED_LINE = "Session record opened"  # "<this>: DIR", once a session has its record (the launcher reads it)
REPLACEMENT_ONLY = "this interview is being resumed: only its own page can come back to it"


async def serve_websocket_sessions(
    settings: Settings,
    config: InterviewConfig,
    *,
    persona: Persona,
    host: str,
    port: int,
    once: bool = False,
    candidate_name: str | None = None,
    stop: GracefulStop | None = None,
    worker_channel_fd: int | None = None,
    listen_fd: int | None = None,
    resume_directory: Path | None = None,
) -> list[SessionOutcome]:
    """Serve `ws://host:port/ws` and the candidate page at `/`; with `once`, stop after the first session ends.

    SIGTERM (`stop`): every session says goodbye and finishes its record, then the server exits.
    `worker_channel_fd`: run as one worker of a pool (`bots/worker_pool.py`), which owns the port.
    `listen_fd`: serve on this inherited listening socket (the launcher's, stable across bot replacements).
    `resume_directory`: a replacement for a bot that died: hold that session for its candidate's token."""
    server = SessionServer(once=once, stop=stop, worker_channel_fd=worker_channel_fd)
    suspensions = server.suspensions(settings)
    if resume_directory is not None:
        _hold_replaced_session(suspensions, resume_directory)

    async def run_session(handle: TransportHandle) -> None:
        if handle.resume_token is None and resume_directory is not None:
            raise SessionRefused(REPLACEMENT_ONLY)
        if handle.resume_token is not None:
            directory = await suspensions.claim(handle.resume_token)  # SessionRefused: closed, saying why
            forget_token_digest(directory)  # used: a later replacement must not take it again

            def build() -> InterviewSession:
                try:
                    return InterviewSession.resume(settings, directory, handle)
                except SnapshotError as exc:
                    raise SessionRefused(f"this interview cannot be resumed: {exc}") from exc
        else:

            def build() -> InterviewSession:
                return InterviewSession(settings, config, handle, persona=persona, candidate_name=candidate_name)

        async def start() -> SessionOutcome:
            session = build()
            if suspensions.enabled:
                session.suspend_on_drop, session.resume_token = True, suspensions.new_token()
            token = session.resume_token
            server.track(session, handle)  # first: a SIGTERM from now on ends it cleanly
            if token is not None:
                save_token_digest(session.record.directory, token)  # before the page has it (see resume_tokens)
                suspensions.started(token)
            announce_record(session.record.directory)
            try:
                outcome = await session.run()
            finally:
                server.untrack(session)
                if token is not None and not session.suspended:
                    suspensions.ended(token)
            if outcome.suspended and token is not None:
                suspensions.hold(token, outcome.directory)
            return outcome

        await server.run(start)

    token = settings.websocket_token.get_secret_value() if settings.websocket_token else None
    app = build_websocket_app(
        run_session,
        token=token,
        max_sessions=settings.max_sessions,
        health_details=server.health_details,
        limits=InputLimits.from_settings(settings),
    )
    sock = socket.socket(fileno=listen_fd) if listen_fd is not None else None
    try:
        return await server.serve(app, host, port, lambda bound_port: print_websocket_ready(host, bound_port), sock)
    finally:
        await suspensions.finish_all()


def announce_record(directory: Path) -> None:
    """Say where the session's record is; a reader that went away (the launcher died) must not stop the session."""
    try:
        print(f"{OPENED_LINE}: {directory}", flush=True)
    except OSError:  # BrokenPipeError: nobody reads our output any more; the session still runs to its end
        pass


def _hold_replaced_session(suspensions: SuspendedSessions, directory: Path) -> None:
    """The dead bot's session, held for the token its candidate holds; ServeError if it gave out none."""
    if not suspensions.enabled:
        raise ServeError("--resume needs RECONNECT_GRACE_SECONDS > 0: the candidate must be able to come back")
    try:
        suspensions.hold_digest(read_token_digest(directory), directory)
    except TokenFileError as exc:
        raise ServeError(f"--resume {directory}: {exc}", EXIT_RESUME) from exc


def print_websocket_ready(host: str, port: int, workers: int = 1) -> None:
    """The lines the launcher, the tests and a person read: where to connect and where the page is."""
    pool = f" ({workers} worker processes)" if workers > 1 else ""
    print(f"Interview server listening on ws://{host}:{port}/ws{pool}", flush=True)
    reason = page_unavailable_reason()
    if reason is None:
        print(f"Candidate page: {page_url(host, port)} (open it in a browser to take the interview)", flush=True)
    else:
        print(f"Candidate page unavailable: {reason}", flush=True)


async def run_room_session(
    settings: Settings,
    config: InterviewConfig,
    *,
    kind: str,
    persona: Persona,
    candidate_name: str | None = None,
    instructions: str | None = None,
    resume_directory: Path | None = None,
    **transport_args: object,
) -> SessionOutcome:
    """Join one Daily/LiveKit room and run its interview to the end.

    Adds what a room session needs beyond the shared assembly: the contract's
    extra instructions and SIGTERM as "say goodbye and end". `resume_directory`: the bot
    that ran this session died; rebuild it from its record and rejoin the same room.
    """
    handle = create_transport(kind, limits=InputLimits.from_settings(settings), **transport_args)  # type: ignore[arg-type]
    if resume_directory is not None:
        try:
            session = InterviewSession.resume(settings, resume_directory, handle)
        except SnapshotError as exc:
            raise ServeError(f"--resume {resume_directory}: {exc}", EXIT_RESUME) from exc
    else:
        session = InterviewSession(
            settings, config, handle, persona=persona, candidate_name=candidate_name, instructions=instructions
        )
    announce_record(session.record.directory)
    stop = GracefulStop()
    stop.track(session, handle)
    stop.install()
    print(f"Session ready: {handle.description}", flush=True)  # services loaded, pipeline built
    try:
        outcome = await session.run()
    finally:
        stop.uninstall()
    if stop.requested and outcome.end_reason in ("cancelled", "stopped"):
        outcome = SessionOutcome(outcome.session_id, outcome.directory, "stopped")
    print(f"Session record: {outcome.directory}", flush=True)
    return outcome
