"""The session launcher: an HTTP service that creates a room, starts a bot for it, and keeps count.

    python -m launcher            # listens on LAUNCHER_HOST:LAUNCHER_PORT, needs LAUNCHER_API_KEY

`POST /sessions` validates the request as a session contract (the same model the
bot reads from room metadata), creates the room (LiveKit: CreateRoom with the
contract as metadata; Daily: a short-lived private room), mints the candidate's
join token, starts `bot.py` for it and answers with the session id, room, join
URL/token and the bot's pid. `transport: websocket` is for local use: the bot
serves one session; `join_url` is its candidate page (`http://127.0.0.1:PORT/`),
`ws_url` its `ws://127.0.0.1:PORT/ws` for programmatic clients. Process management lives in
`launcher/sessions.py`; `LAUNCHER_WARM_POOL` children wait loaded for a session
(`launcher/warm_pool.py`), so a session starts in a process that is already warm.
Every request needs `Authorization: Bearer <LAUNCHER_API_KEY>`.
"""

from __future__ import annotations

import hmac
import os
import socket
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
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
from launcher.warm_pool import WarmPool
from report import REPORT_FILE
from settings import Settings
from transports.candidate_page import page_url
from transports.room_api import ROOM_JOIN_WINDOW_SECONDS, RoomTickets

ROOT = Path(__file__).resolve().parents[1]
BOT_SCRIPT = ROOT / "bot.py"

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
    lifetime = config.timeouts.session_timeout_seconds + ROOM_JOIN_WINDOW_SECONDS
    if request.transport == "livekit":
        if not (settings.livekit_url and settings.livekit_api_key and settings.livekit_api_secret):
            raise HTTPException(
                400, "transport livekit: the launcher has no LIVEKIT_URL / LIVEKIT_API_KEY / LIVEKIT_API_SECRET"
            )
        from transports.room_api import create_livekit_room

        return await create_livekit_room(
            server_url=settings.livekit_url,
            api_url=settings.livekit_api_url,
            api_key=settings.livekit_api_key.get_secret_value(),
            api_secret=settings.livekit_api_secret.get_secret_value(),
            room=f"interview-{session_id}",
            metadata=contract.to_json(),
            candidate_identity=contract.candidate_identity or "candidate",
            candidate_name=contract.candidate_name,
            token_ttl=timedelta(seconds=lifetime),
        )
    if request.transport == "daily":
        if settings.daily_api_key is None:
            raise HTTPException(400, "transport daily: the launcher has no DAILY_API_KEY")
        import aiohttp

        from transports.room_api import create_daily_room

        async with aiohttp.ClientSession() as http:
            return await create_daily_room(
                api_key=settings.daily_api_key.get_secret_value(),
                api_url=settings.daily_api_url,
                lifetime_seconds=lifetime,
                candidate_identity=contract.candidate_identity or "candidate",
                candidate_name=contract.candidate_name,
                session=http,
            )
    raise HTTPException(400, f"transport {request.transport}: no room to create")


def bot_script_command() -> list[str]:
    """How a bot child starts: this interpreter running bot.py (a warm-pool child adds --warm)."""
    return [sys.executable, str(BOT_SCRIPT)]


def bot_command(transport: str, tickets: RoomTickets | None, contract_file: Path, port: int | None) -> list[str]:
    """The child's argv: LiveKit reads its contract from the room's metadata; the others from a file.

    The bot's token is never in argv (anyone can read a process list): it is in a 0600 file."""
    base = [*bot_script_command(), "--transport", transport]
    token_file = str(token_file_for(contract_file))
    if transport == "livekit":
        assert tickets is not None
        return [*base, "--room", tickets.room, "--url", tickets.join_url, "--token-file", token_file]
    if transport == "daily":
        assert tickets is not None
        return [*base, "--room-url", tickets.room, "--token-file", token_file, "--contract", str(contract_file)]
    return [*base, "--host", "127.0.0.1", "--port", str(port), "--once", "--contract", str(contract_file)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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
    env = child_environment(os.environ if child_env is None else child_env)
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
            tickets, port, ws_url = None, None, None
            if request.transport == "websocket":
                port = free_port()
                join_url, ws_url = page_url("127.0.0.1", port), f"ws://127.0.0.1:{port}/ws"
            else:
                tickets = await _create_room(room_creator, settings, request, contract, config, session_id)
                write_private(token_file_for(contract_file), tickets.bot_token)
                join_url = tickets.join_url
            session = LaunchedSession(
                id=session_id,
                transport=request.transport,
                room=tickets.room if tickets else None,
                join_url=join_url,
                ws_url=ws_url,
                candidate_token=tickets.candidate_token if tickets else None,
                timeout_seconds=config.timeouts.session_timeout_seconds,
                directory=directory,
            )
        except BaseException:
            sup.release()
            raise
        await sup.start(session, command_for(request.transport, tickets, contract_file, port), env, ROOT, warm=pool)
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
