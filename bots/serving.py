"""The one table of transport kinds: how `bot.py --transport KIND` serves each one.

Connection-accepting kinds (websocket, twilio) run a server with a session per connection,
and a worker pool may share their port; room kinds (daily, livekit) join one room and run
one session. bot.py looks its kind up here once (`SERVING[kind]`) and never branches on it.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bots.exit_codes import EXIT_CONTRACT, EXIT_OK, EXIT_SESSION_FAILED, EXIT_USAGE, exit_code_for
from transports.common import TransportKind

if TYPE_CHECKING:  # keep `bot.py --help` and flag errors free of the Pipecat import
    from bots.graceful_stop import GracefulStop
    from bots.session import SessionOutcome
    from interview.config import InterviewConfig
    from interview.session_contract import SessionContract
    from interview.structured_interviewer import Persona
    from settings import Settings


class ServeError(Exception):
    """The kind cannot be served as asked (a missing flag or setting, an unusable room); bot.py prints it."""

    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class ServeRequest:
    """What bot.py's flags and settings ask for, whatever the kind (each kind reads what it needs)."""

    settings: Settings
    config: InterviewConfig | None  # None: livekit reads it from the room's metadata
    contract: SessionContract | None
    config_source: str  # --config or the default interview's name
    persona: Persona = "interviewer"
    host: str = "127.0.0.1"
    port: int = 0
    once: bool = False
    candidate_name: str | None = None
    room_url: str | None = None
    room: str | None = None
    url: str | None = None
    token: str | None = None
    worker_channel_fd: int | None = None
    listen_fd: int | None = None  # websocket: an inherited listening socket (the launcher's) instead of host:port
    resume: Path | None = None  # a record folder: this bot replaces one that died (its session goes on)

    @property
    def people(self) -> dict[str, str | None]:
        """Candidate name/identity and extra instructions: flags win over the contract."""
        contract = self.contract
        return {
            "candidate_name": self.candidate_name or (contract.candidate_name if contract else None),
            "candidate_identity": contract.candidate_identity if contract else None,
            "instructions": contract.instructions if contract else None,
        }

    def interview(self) -> InterviewConfig:
        if self.config is None:
            from interview.loader import load_interview_config

            return load_interview_config(self.config_source)
        return self.config


@dataclass(frozen=True)
class Serving:
    """How one transport kind is served."""

    serve: Callable[[ServeRequest], Awaitable[int]]  # runs until done; returns the exit code
    interviews: Callable[[ServeRequest], list[InterviewConfig]]  # checked and loaded before the first session
    # A worker pool may share the port (connection-accepting kinds): the line a pool prints when
    # ready, given (request, bound port, workers), and what it sets up before starting workers.
    pool_ready: Callable[[ServeRequest], Callable[[int, int], None]] | None = None
    config_from_room: bool = False  # no --config: the interview comes from the room's metadata
    resumed_by_new_bot: bool = True  # --resume: a replacement bot takes the session up (a phone calls back)
    serves_inherited_socket: bool = False  # --listen-fd: it accepts connections on a socket it is handed


# --- websocket -----------------------------------------------------------------------------


async def _serve_websocket(request: ServeRequest) -> int:
    from bots.graceful_stop import GracefulStop
    from bots.runners import serve_websocket_sessions

    stop = GracefulStop()
    outcomes = await serve_websocket_sessions(
        request.settings,
        request.interview(),
        **_server_options(request, stop),
        listen_fd=request.listen_fd,
        resume_directory=request.resume,
    )
    return _server_exit_code(outcomes, stop)


def _websocket_pool_ready(request: ServeRequest) -> Callable[[int, int], None]:
    from bots.runners import print_websocket_ready

    return lambda port, workers: print_websocket_ready(request.host, port, workers)


# --- twilio --------------------------------------------------------------------------------


def _phone_catalog(request: ServeRequest) -> dict[str, InterviewConfig]:
    from bots.phone import PhoneSetupError, load_interview_catalog

    try:
        return load_interview_catalog(request.config_source, request.interview(), request.settings)
    except PhoneSetupError as exc:
        raise ServeError(str(exc)) from exc


async def _serve_phone(request: ServeRequest) -> int:
    """The webhook + media-stream server, one session per call (docs/running.md, Twilio)."""
    from bots.graceful_stop import GracefulStop
    from bots.phone import PhoneSetupError, serve_phone_sessions

    stop = GracefulStop()
    try:
        outcomes = await serve_phone_sessions(
            request.settings, request.config_source, request.interview(), **_server_options(request, stop)
        )
    except PhoneSetupError as exc:
        raise ServeError(str(exc)) from exc
    return _server_exit_code(outcomes, stop)


def _phone_pool_ready(request: ServeRequest) -> Callable[[int, int], None]:
    from bots.phone import PhoneSetupError, print_phone_ready, server_options

    catalog = _phone_catalog(request)
    try:
        public_host = server_options(request.settings, catalog, request.config_source).public_host
    except PhoneSetupError as exc:
        raise ServeError(str(exc)) from exc
    if not request.settings.twilio_stream_token_secret:
        # The webhook and its media stream may reach different workers: they must share the token key.
        # (Single use is then per worker: a stolen token still dies at its short TTL.)
        os.environ["TWILIO_STREAM_TOKEN_SECRET"] = secrets.token_urlsafe(32)
    return lambda port, workers: print_phone_ready(request.host, port, public_host, catalog, workers)


# --- rooms ---------------------------------------------------------------------------------


async def _serve_daily(request: ServeRequest) -> int:
    from bots.runners import run_room_session

    room_url, token = request.room_url, request.token
    if not room_url:
        room_url, token = await _create_daily_room(request)
    outcome = await run_room_session(
        request.settings,
        request.interview(),
        kind="daily",
        persona=request.persona,
        **request.people,
        resume_directory=request.resume,
        room_url=room_url,
        token=token,
    )
    return exit_code_for(outcome.end_reason)


async def _create_daily_room(request: ServeRequest) -> tuple[str, str]:
    """No --room-url: a short-lived private room and tokens via Daily's REST API; prints the join URL."""
    from transports.room_api import ROOM_JOIN_WINDOW_SECONDS, RoomRequest, RoomSetupError, create_room

    config, contract = request.interview(), request.contract
    room = RoomRequest(
        session_id="",
        lifetime_seconds=config.timeouts.session_timeout_seconds + ROOM_JOIN_WINDOW_SECONDS,
        candidate_identity=(contract.candidate_identity if contract else None) or "candidate",
        candidate_name=contract.candidate_name if contract else None,
    )
    try:
        tickets = await create_room("daily", request.settings, room)
    except RoomSetupError as exc:
        raise ServeError(f"--transport daily needs --room-url, or {exc.missing} to create a room") from exc
    except Exception as exc:  # DailyRESTHelper raises bare Exception with the API's message
        raise ServeError(f"daily: could not create a room: {exc}", EXIT_SESSION_FAILED) from exc
    print(f"Candidate join URL: {tickets.join_url}", flush=True)
    return tickets.room, tickets.bot_token


async def _serve_livekit(request: ServeRequest) -> int:
    from bots.runners import run_room_session

    settings = request.settings
    url = request.url or settings.livekit_url
    if not url or not request.room:
        raise ServeError("--transport livekit needs --room and --url (or setting LIVEKIT_URL)")
    token = request.token or _mint_livekit_token(settings, request.room)
    if request.config is None:
        contract, config = await _contract_from_livekit_room(url, token, request.room, settings.metadata_timeout)
        request = ServeRequest(**{**vars(request), "contract": contract, "config": config})
    outcome = await run_room_session(
        settings,
        request.interview(),
        kind="livekit",
        persona=request.persona,
        **request.people,
        resume_directory=request.resume,
        url=url,
        token=token,
        room_name=request.room,
    )
    return exit_code_for(outcome.end_reason)


def _mint_livekit_token(settings: Settings, room: str) -> str:
    if not (settings.livekit_api_key and settings.livekit_api_secret):
        raise ServeError("--transport livekit needs --token, or LIVEKIT_API_KEY and LIVEKIT_API_SECRET to mint one")
    from transports.livekit import mint_agent_token

    return mint_agent_token(
        settings.livekit_api_key.get_secret_value(), settings.livekit_api_secret.get_secret_value(), room
    )


async def _contract_from_livekit_room(
    url: str, token: str, room: str, timeout: float
) -> tuple[SessionContract, InterviewConfig]:
    """Join, wait for the room's metadata, validate it; a contract that is missing or bad is EXIT_CONTRACT."""
    from interview.session_contract import ContractError, load_session
    from transports.livekit import read_room_metadata
    from transports.room_metadata import MetadataTimeout

    try:
        polled = await read_room_metadata(url, token, timeout=timeout)
    except MetadataTimeout as exc:
        raise ServeError(f"livekit room {room}: {exc}", EXIT_CONTRACT) from exc
    except Exception as exc:  # the SDK's connection errors have no common base
        raise ServeError(
            f"livekit room {room}: could not join {url}: {type(exc).__name__}: {exc}", EXIT_SESSION_FAILED
        ) from exc
    try:
        return load_session(polled.metadata, f"livekit room {room} metadata")
    except ContractError as exc:
        raise ServeError(str(exc), EXIT_CONTRACT) from exc


def _server_options(request: ServeRequest, stop: GracefulStop) -> dict[str, Any]:
    """What every connection-accepting server takes from the request."""
    return {
        "persona": request.persona,
        "host": request.host,
        "port": request.port,
        "once": request.once,
        "candidate_name": request.people["candidate_name"],
        "stop": stop,
        "worker_channel_fd": request.worker_channel_fd,
    }


def _server_exit_code(outcomes: list[SessionOutcome], stop: GracefulStop) -> int:
    """SIGTERM: 15 (stopped) once every session has closed its record; else 0 unless a session failed."""
    if any(o.end_reason == "error" for o in outcomes):
        return EXIT_SESSION_FAILED
    return exit_code_for("stopped") if stop.requested else EXIT_OK


SERVING: dict[TransportKind, Serving] = {
    "websocket": Serving(
        serve=_serve_websocket,
        interviews=lambda r: [r.interview()],
        pool_ready=_websocket_pool_ready,
        serves_inherited_socket=True,
    ),
    "twilio": Serving(
        serve=_serve_phone,
        interviews=lambda r: list(_phone_catalog(r).values()),
        pool_ready=_phone_pool_ready,
        resumed_by_new_bot=False,
    ),
    "daily": Serving(serve=_serve_daily, interviews=lambda r: [r.interview()]),
    "livekit": Serving(serve=_serve_livekit, interviews=lambda r: [r.interview()], config_from_room=True),
}
