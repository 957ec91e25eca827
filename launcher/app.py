"""The session launcher: an HTTP service that creates a room, starts a bot for it, and keeps count.

    python -m launcher            # listens on LAUNCHER_HOST:LAUNCHER_PORT, needs LAUNCHER_API_KEY

`POST /sessions` validates the request as a session contract (the same model the
bot reads from room metadata), creates the room (LiveKit: CreateRoom with the
contract as metadata; Daily: a short-lived private room), mints the candidate's
join token, starts `bot.py` for it and answers with the session id, room, join
URL/token and the bot's pid. `transport: websocket` is for local use: the bot
serves one session (one connection: MAX_SESSIONS=1) on a socket the launcher bound for the
session (a free port the kernel picks, inherited by the bot: `launcher/listener.py`, so the
URL outlives a bot that dies and is replaced), for the holder of the session's own token
(`candidate_token`, minted here, in the bot's environment, never its argv); once the session
is `running`, `join_url` is its candidate page (`http://127.0.0.1:PORT/?token=...`) and
`ws_url` its `ws://127.0.0.1:PORT/ws?token=...` for programmatic clients (both null while `starting`).
A WebSocket session nobody joins within LAUNCHER_JOIN_TIMEOUT_SECONDS is stopped. Process management lives in
`launcher/sessions.py`; `LAUNCHER_WARM_POOL` children wait loaded for a session
(`launcher/warm_pool.py`), so a session starts in a process that is already warm.
Every request needs `Authorization: Bearer <LAUNCHER_API_KEY>`. Children get an
allow-listed environment (`launcher/child_secrets.py`) and die with the launcher
(`launcher/child_process.py`).
"""

from __future__ import annotations

import hmac
import os
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from pydantic import ValidationError

from interview.config import InterviewConfig
from interview.loader import ConfigError, describe_validation_error
from interview.session_contract import ContractError, SessionContract, contract_from_data
from launcher.child_secrets import child_environment, token_file_for, write_private
from launcher.request import LaunchRequest, read_launch_request
from launcher.sessions import LaunchedSession, Supervisor
from launcher.warm_pool import WarmPool, new_websocket_token
from report import REPORT_FILE
from settings import Settings
from transports.room_api import (
    ROOM_JOIN_WINDOW_SECONDS,
    RoomRequest,
    RoomSetupError,
    RoomTickets,
    bot_join_flags,
    is_room,
)
from transports.room_api import create_room as create_room_for

ROOT = Path(__file__).resolve().parents[1]
BOT_SCRIPT = ROOT / "bot.py"

ONE_SESSION_SETTING = "MAX_SESSIONS"

RoomCreator = Callable[[Settings, "LaunchRequest", SessionContract, InterviewConfig, str], Awaitable[RoomTickets]]


def _contract_for(request: LaunchRequest, session_id: str) -> tuple[SessionContract, InterviewConfig]:
    """The request's contract fields, validated and resolved like the bot will; 422 naming the field."""
    data: dict[str, Any] = dict(request.model_extra or {})
    data.setdefault("candidate_identity", f"candidate-{session_id}")
    data.setdefault("created_at", datetime.now(UTC).isoformat())
    try:
        contract = contract_from_data(data, "request")
        return contract, contract.resolve_config()
    except ContractError as exc:
        raise HTTPException(422, str(exc)) from exc
    except ConfigError as exc:  # the interview itself (a bundled name that does not exist, ...)
        raise HTTPException(422, f"request: {exc}") from exc


async def create_room(
    settings: Settings, request: LaunchRequest, contract: SessionContract, config: InterviewConfig, session_id: str
) -> RoomTickets:
    """Create the room and tokens through the provider's API (tests point the API URLs at local fakes)."""
    room = RoomRequest(
        session_id=session_id,
        lifetime_seconds=config.timeouts.session_timeout_seconds + ROOM_JOIN_WINDOW_SECONDS,
        candidate_identity=contract.candidate_identity or "candidate",
        candidate_name=contract.candidate_name,
        metadata=contract.to_json(),
    )
    try:
        return await create_room_for(request.transport, settings, room)
    except RoomSetupError as exc:
        detail = f"the launcher has no {exc.missing}" if exc.missing else "no room to create"
        raise HTTPException(400, f"transport {request.transport}: {detail}") from exc


def bot_script_command() -> list[str]:
    """How a bot child starts: this interpreter running bot.py (a warm-pool child adds --warm)."""
    return [sys.executable, str(BOT_SCRIPT)]


def bot_command(transport: str, tickets: RoomTickets | None, contract_file: Path, port: int | None) -> list[str]:
    """The child's argv: a room bot joins the room in `tickets`; a WebSocket bot serves one session on `port`
    (None: on the socket the supervisor hands it, `--listen-fd`).

    The bot's token is never in argv (anyone can read a process list): it is in a 0600 file.
    """
    base = [*bot_script_command(), "--transport", transport]
    if tickets is not None:
        return [*base, *bot_join_flags(transport, tickets, str(token_file_for(contract_file)), str(contract_file))]
    where = ["--port", str(port)] if port is not None else []
    return [*base, "--host", "127.0.0.1", *where, "--once", "--contract", str(contract_file)]


def create_app(
    settings: Settings,
    *,
    supervisor: Supervisor | None = None,
    room_creator: RoomCreator = create_room,
    child_env: dict[str, str] | None = None,
    command_for: Callable[[str, RoomTickets | None, Path, int | None], list[str]] = bot_command,
) -> FastAPI:
    if settings.launcher_api_key is None:
        raise ValueError("LAUNCHER_API_KEY is not set: the launcher refuses to run without authentication")
    key = settings.launcher_api_key.get_secret_value().encode()
    sup = supervisor or Supervisor(
        max_sessions=settings.launcher_max_sessions, grace_seconds=settings.launcher_grace_seconds
    )
    if sup.records_dir is None:
        sup.records_dir = settings.sessions_dir.resolve()
    if sup.join_timeout_seconds is None:
        sup.join_timeout_seconds = settings.launcher_join_timeout_seconds
    if sup.restart_attempts is None:
        sup.restart_attempts = settings.launcher_restart_attempts
    if sup.bot_script is None:
        sup.bot_script = bot_script_command()
    # `child_env` (tests) is the whole source; a deployment's children also get the bot settings the
    # launcher read from its .env, since they read none themselves.
    env = child_environment(os.environ, settings) if child_env is None else child_environment(child_env)
    env[ONE_SESSION_SETTING] = "1"  # a --once bot serves one connection, not MAX_SESSIONS of them
    launcher_dir = settings.sessions_dir / "launcher"
    pool = WarmPool(settings.launcher_warm_pool, command=[*bot_script_command(), "--warm"], env=env, cwd=ROOT)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        pool.fill()
        yield
        await pool.shutdown()
        await sup.shutdown()  # the launcher going away ends its children

    app = FastAPI(title="Interview session launcher", lifespan=lifespan)
    app.state.supervisor = sup
    app.state.warm_pool = pool

    async def authorize(request: Request) -> None:
        header = request.headers.get("authorization", "")
        scheme, _, given = header.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), key):
            raise HTTPException(401, "missing or wrong bearer key", headers={"WWW-Authenticate": "Bearer"})

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0]
        location = ".".join(str(p) for p in first["loc"] if p != "body")
        return JSONResponse({"detail": f"request: {location}: {first['msg']}" if location else first["msg"]}, 422)

    @app.post("/sessions", status_code=201, dependencies=[Depends(authorize)])
    async def create_session(http_request: Request) -> dict[str, object]:
        request = await read_launch_request(http_request)
        session_id = uuid.uuid4().hex[:12]
        contract, config = _contract_for(request, session_id)
        if not sup.reserve():
            raise HTTPException(429, f"at the limit of {sup.max_sessions} concurrent sessions; try again later")
        try:
            directory = launcher_dir / session_id
            directory.mkdir(parents=True, exist_ok=True)
            contract_file = directory / "contract.json"
            contract_file.write_text(contract.to_json(), encoding="utf-8")
            tickets, child_env_for = None, env
            port: int | None = None
            join_url: str | None
            candidate_token: str | None
            if not is_room(request.transport):
                port = None  # the supervisor's socket for the session (launcher/listener.py); the ready line says it
                join_url, candidate_token = None, new_websocket_token()  # the URLs follow from its ready line
                child_env_for = {**env, "WEBSOCKET_TOKEN": candidate_token}
            else:
                tickets = await _create_room(room_creator, settings, request, contract, config, session_id)
                write_private(token_file_for(contract_file), tickets.bot_token)
                join_url, candidate_token = tickets.join_url, tickets.candidate_token
            session = LaunchedSession(
                id=session_id,
                transport=request.transport,
                room=tickets.room if tickets else None,
                join_url=join_url,
                candidate_token=candidate_token,
                timeout_seconds=config.timeouts.session_timeout_seconds,
                directory=directory,
            )
        except BaseException:
            sup.release()
            raise
        command = command_for(request.transport, tickets, contract_file, port)
        await sup.start(session, command, child_env_for, ROOT, warm=pool)
        return session.public()

    @app.get("/sessions", dependencies=[Depends(authorize)])
    async def list_sessions() -> dict[str, object]:
        return {
            "active": sup.active,
            "max_sessions": sup.max_sessions,
            "warm_pool": pool.status(),
            "sessions": [s.public() for s in sup.sessions.values()],
        }

    @app.get("/sessions/{session_id}", dependencies=[Depends(authorize)])
    async def get_session(session_id: str) -> dict[str, object]:
        return _find(sup, session_id).public()

    @app.get("/sessions/{session_id}/report", dependencies=[Depends(authorize)], response_class=HTMLResponse)
    async def get_report(session_id: str) -> FileResponse:
        """The session's report.html (its audio is `recording.wav`, served beside it)."""
        return FileResponse(_record_file(_find(sup, session_id), REPORT_FILE), media_type="text/html; charset=utf-8")

    @app.get("/sessions/{session_id}/recording.wav", dependencies=[Depends(authorize)])
    async def get_recording(session_id: str) -> FileResponse:
        return FileResponse(_record_file(_find(sup, session_id), "recording.wav"), media_type="audio/wav")

    @app.delete("/sessions/{session_id}", status_code=202, dependencies=[Depends(authorize)])
    async def delete_session(session_id: str) -> dict[str, object]:
        session = _find(sup, session_id)
        sup.request_stop(session_id)
        return session.public()

    return app


async def _create_room(
    creator: RoomCreator,
    settings: Settings,
    request: LaunchRequest,
    contract: SessionContract,
    config: InterviewConfig,
    session_id: str,
) -> RoomTickets:
    try:
        return await creator(settings, request, contract, config, session_id)
    except HTTPException:
        raise
    except Exception as exc:  # the provider refused or is unreachable: not the client's fault
        raise HTTPException(
            502, f"transport {request.transport}: creating the room failed: {type(exc).__name__}: {exc}"
        ) from exc


def _find(sup: Supervisor, session_id: str) -> LaunchedSession:
    session = sup.sessions.get(session_id)
    if session is None:
        raise HTTPException(404, f"no session {session_id}")
    return session


def _record_file(session: LaunchedSession, name: str) -> Path:
    """A file of the session's record; 404 saying why when there is none (yet)."""
    if session.record is None:
        raise HTTPException(404, f"session {session.id} has no record yet (state: {session.state})")
    path = Path(session.record)
    path = (path if path.is_absolute() else ROOT / path) / name
    if not path.is_file():
        when = (
            "it is written when the session ends"
            if session.state in ("starting", "running")
            else "the session left none"
        )
        raise HTTPException(404, f"session {session.id}: no {name} yet ({when})")
    return path


def main() -> int:
    import uvicorn

    try:
        settings = Settings()
    except ValidationError as exc:
        print(f"launcher: error: settings: {describe_validation_error(exc)}", file=sys.stderr)
        return 2
    try:
        app = create_app(settings)
    except ValueError as exc:
        print(f"launcher: error: {exc}", file=sys.stderr)
        return 2
    uvicorn.run(app, host=settings.launcher_host, port=settings.launcher_port, log_level="info")
    return 0


if __name__ == "__main__":
    sys.exit(main())
