"""The interviewer command: `python bot.py --transport {websocket,twilio,daily,livekit} ...`.

Parses flags, loads settings and the interview config (failing fast with one
line naming what is wrong), then hands over to bots/runners.py.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import sys
from typing import NoReturn

from loguru import logger

from bots.exit_codes import EXIT_CONTRACT, EXIT_OK, EXIT_SESSION_FAILED, EXIT_USAGE, exit_code_for
from transports.common import TRANSPORT_KINDS

DEFAULT_CONFIG = "senior_backend_engineer"

# Smart Turn's feature matmul leaves OpenBLAS threads spinning: one thread is faster here.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


class OneLineArgumentParser(argparse.ArgumentParser):
    """argparse, but a bad flag is one line on stderr, not a usage dump."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineArgumentParser(
        prog="bot.py",
        description="AI voice interviewer. Runs structured spoken interviews and writes a session record "
        "(transcript, events, stereo recording) under SESSIONS_DIR.",
    )
    parser.add_argument(
        "--transport",
        choices=TRANSPORT_KINDS,
        default="websocket",
        help="websocket: serve ws://HOST:PORT/ws, one session per connection, and the candidate page at "
        "http://HOST:PORT/ (talk to the interviewer in a browser). "
        "daily / livekit: join one room and interview whoever joins. "
        "twilio: serve Twilio's voice webhook (POST /twilio/voice) and media streams, one interview per call "
        "(needs PUBLIC_HOST and the TWILIO_* settings, see README).",
    )
    parser.add_argument(
        "--config",
        help="interview config: a .yaml/.json file or a bundled name (senior_backend_engineer, qualitative_research). "
        f"Default: livekit reads the session contract from the room's metadata; others use {DEFAULT_CONFIG}.",
    )
    parser.add_argument(
        "--contract",
        metavar="FILE",
        help="the session contract JSON (what the launcher puts in a LiveKit room's metadata) from a file: "
        "interview plus per-session overrides and the candidate. Replaces --config.",
    )
    parser.add_argument(
        "--persona",
        choices=("interviewer", "coach"),
        default="interviewer",
        help="interviewer: a real interview. coach: practice mode with feedback after each answer.",
    )
    parser.add_argument("--host", help="address to listen on (websocket, twilio). Default: setting HOST (127.0.0.1).")
    parser.add_argument("--port", type=int, help="port to listen on, 0 = any free port. Default: setting PORT (8765).")
    parser.add_argument(
        "--once", action="store_true", help="websocket, twilio: exit after the first session (call) ends."
    )
    parser.add_argument("--candidate-name", help="the candidate's name, used in the greeting and the record.")
    parser.add_argument("--room-url", help="daily: the room URL to join.")
    parser.add_argument("--room", help="livekit: the room name to join.")
    parser.add_argument("--url", help="livekit: server URL (default: setting LIVEKIT_URL).")
    parser.add_argument(
        "--token", help="daily/livekit: the bot's join token. livekit: minted from LIVEKIT_API_KEY/SECRET when omitted."
    )
    parser.add_argument(
        "--token-file",
        metavar="FILE",
        help="daily/livekit: read the join token from FILE (keep it mode 0600) instead of --token, which any "
        "local user can see in the process list. The launcher passes tokens this way.",
    )
    parser.add_argument(
        "--workers",
        type=int,
        metavar="K",
        help="websocket, twilio: run K worker processes behind the one port, sessions going to the least loaded "
        "(each loads its own models; MAX_SESSIONS is per worker). 0 = one per core. Default: setting WORKERS (1). "
        "--once always runs one process.",
    )
    parser.add_argument("--worker-channel", type=int, help=argparse.SUPPRESS)  # set by the pool for its workers
    parser.add_argument(
        "--warm",
        action="store_true",
        help='load imports and embedded models first, then read one line of JSON {"argv": [flags]} on stdin and '
        "run as if started with those flags (the launcher's warm pool; LAUNCHER_WARM_POOL). No other flags.",
    )
    return parser


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    print(f"bot.py: error: {message}", file=sys.stderr)
    raise SystemExit(code)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if "--warm" in argv:
        if argv != ["--warm"]:
            fail("--warm takes no other flags: the session's flags arrive on stdin")
        from bots.warm_start import run_when_handed_over

        return run_when_handed_over(main, default_config=DEFAULT_CONFIG)
    args = build_parser().parse_args(argv)
    if args.token_file:
        args.token = _read_token(args.token_file)

    from pydantic import ValidationError

    from interview.loader import ConfigError, load_interview_config
    from settings import Settings

    try:
        settings = Settings()
    except ValidationError as exc:
        from interview.loader import describe_validation_error

        fail(f"settings: {describe_validation_error(exc)}")
    logger.remove()
    logger.add(sys.stderr, level=settings.log_level)
    from interview.session_contract import ContractError, load_session

    contract = None
    try:
        if args.contract:
            contract, config = load_session(_read_text(args.contract), f"session contract {args.contract}")
        elif args.config or args.transport != "livekit":
            config = load_interview_config(args.config or DEFAULT_CONFIG)
        else:
            config = None  # livekit: from the room's metadata once joined
    except ContractError as exc:
        fail(str(exc), EXIT_CONTRACT)
    except ConfigError as exc:
        fail(str(exc))

    workers = _pool_size(args, settings)
    if workers > 1:
        return _run_pool(argv, args, settings, config, workers)

    from bots.startup_checks import StartupError, check_sessions_can_start
    from services.errors import ProviderConfigError
    from services.model_files import LocalModelError

    try:
        # Every transport: providers, scorer, record folder and one copy of each embedded model,
        # checked before the first session (servers would otherwise fail per connection).
        check_sessions_can_start(settings, _interviews_this_process_runs(args, settings, config))
        return asyncio.run(_run(args, settings, config, contract))
    except (StartupError, ProviderConfigError, LocalModelError) as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        return EXIT_OK
    except asyncio.CancelledError:  # cancelled from outside
        return exit_code_for("stopped")


def _pool_size(args: argparse.Namespace, settings) -> int:  # type: ignore[no-untyped-def]
    """How many worker processes serve this port: 1 (no pool) for rooms, --once and the workers themselves."""
    from bots.worker_pool import worker_count

    requested = settings.workers if args.workers is None else args.workers
    if requested < 0:
        fail(f"--workers {requested}: must be 0 (one per core) or more")
    if args.transport not in ("websocket", "twilio") or args.once or args.worker_channel is not None:
        return 1
    return worker_count(requested)


def _run_pool(argv: list[str], args: argparse.Namespace, settings, config, workers: int) -> int:  # type: ignore[no-untyped-def]
    """The pool's primary: owns the port, starts the workers (each checks and loads everything itself)."""
    from bots.worker_pool import WorkerPool

    host = args.host or settings.host
    port = settings.port if args.port is None else args.port
    if args.transport == "websocket":
        from bots.runners import print_websocket_ready

        def on_ready(bound_port: int) -> None:
            print_websocket_ready(host, bound_port, workers)
    else:
        from bots.phone import PhoneSetupError, load_interview_catalog, print_phone_ready, server_options

        try:
            catalog = load_interview_catalog(args.config or DEFAULT_CONFIG, config, settings)
            public_host = server_options(settings, catalog, args.config or DEFAULT_CONFIG).public_host
        except PhoneSetupError as exc:
            fail(str(exc))

        def on_ready(bound_port: int) -> None:
            print_phone_ready(host, bound_port, public_host, catalog, workers)

        if not settings.twilio_stream_token_secret:
            # The webhook and its media stream may reach different workers: they must share the token key.
            # (Single use is then per worker: a stolen token still dies at its short TTL.)
            os.environ["TWILIO_STREAM_TOKEN_SECRET"] = secrets.token_urlsafe(32)

    pool = WorkerPool(
        [os.path.abspath(__file__), *argv],
        workers=workers,
        max_sessions_per_worker=settings.max_sessions,
        host=host,
        port=port,
    )
    try:
        return asyncio.run(pool.serve(on_ready))
    except OSError as exc:
        fail(f"cannot listen on {host}:{port}: {exc.strerror}")


def _interviews_this_process_runs(args: argparse.Namespace, settings, config) -> list:  # type: ignore[no-untyped-def]
    """twilio: every interview a call may pick; livekit before its metadata: the default; else the one."""
    from interview.loader import load_interview_config

    if args.transport == "twilio":
        from bots.phone import PhoneSetupError, load_interview_catalog

        try:
            return list(load_interview_catalog(args.config or DEFAULT_CONFIG, config, settings).values())
        except PhoneSetupError as exc:
            fail(str(exc))
    return [config or load_interview_config(DEFAULT_CONFIG)]


async def _run(args: argparse.Namespace, settings, config, contract) -> int:  # type: ignore[no-untyped-def]
    from bots.graceful_stop import GracefulStop
    from bots.runners import run_room_session, serve_websocket_sessions
    from services.local_models import configure_default_executor

    configure_default_executor(asyncio.get_running_loop())

    if args.transport == "websocket":
        host = args.host or settings.host
        port = settings.port if args.port is None else args.port
        stop = GracefulStop()
        candidate_name = args.candidate_name or (contract.candidate_name if contract else None)
        outcomes = await serve_websocket_sessions(
            settings, config, persona=args.persona, host=host, port=port, once=args.once, candidate_name=candidate_name,
            stop=stop, worker_channel_fd=args.worker_channel,
        )  # fmt: skip
        return _server_exit_code(outcomes, stop)
    if args.transport == "daily":
        room_url, token = args.room_url, args.token
        if not room_url:
            room_url, token = await _create_daily_room(settings, config, contract)
        outcome = await run_room_session(
            settings,
            config,
            kind="daily",
            persona=args.persona,
            **_session_people(args, contract),
            room_url=room_url,
            token=token,
        )
        return exit_code_for(outcome.end_reason)
    if args.transport == "livekit":
        url = args.url or settings.livekit_url
        if not url or not args.room:
            fail("--transport livekit needs --room and --url (or setting LIVEKIT_URL)")
        token = args.token or _mint_livekit_token(settings, args.room)
        if config is None:
            contract, config = await _contract_from_livekit_room(url, token, args.room, settings.metadata_timeout)
        outcome = await run_room_session(
            settings,
            config,
            kind="livekit",
            persona=args.persona,
            **_session_people(args, contract),
            url=url,
            token=token,
            room_name=args.room,
        )
        return exit_code_for(outcome.end_reason)
    return await _serve_phone(args, settings, config, contract)


async def _serve_phone(args: argparse.Namespace, settings, config, contract) -> int:  # type: ignore[no-untyped-def]
    """twilio: the webhook + media-stream server, one session per call (see README, Phone interviews)."""
    from bots.graceful_stop import GracefulStop
    from bots.phone import PhoneSetupError, serve_phone_sessions

    host = args.host or settings.host
    port = settings.port if args.port is None else args.port
    stop = GracefulStop()
    candidate_name = args.candidate_name or (contract.candidate_name if contract else None)
    try:
        outcomes = await serve_phone_sessions(
            settings,
            args.config or DEFAULT_CONFIG,
            config,
            persona=args.persona,
            host=host,
            port=port,
            once=args.once,
            candidate_name=candidate_name,
            stop=stop,
            worker_channel_fd=args.worker_channel,
        )
    except PhoneSetupError as exc:
        fail(str(exc))
    return _server_exit_code(outcomes, stop)


def _server_exit_code(outcomes, stop) -> int:  # type: ignore[no-untyped-def]
    """SIGTERM: 15 (stopped) once every session has closed its record; else 0 unless a session failed."""
    if any(o.end_reason == "error" for o in outcomes):
        return EXIT_SESSION_FAILED
    return exit_code_for("stopped") if stop.requested else EXIT_OK


def _read_token(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as f:
            token = f.read().strip()
    except OSError as exc:
        fail(f"--token-file {path}: {exc.strerror}")
    if not token:
        fail(f"--token-file {path}: empty")
    return token


def _read_text(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except OSError as exc:
        fail(f"session contract {path}: {exc.strerror}", EXIT_CONTRACT)


def _session_people(args: argparse.Namespace, contract) -> dict:  # type: ignore[no-untyped-def]
    """Candidate name/identity and extra instructions: flags win over the contract."""
    return {
        "candidate_name": args.candidate_name or (contract.candidate_name if contract else None),
        "candidate_identity": contract.candidate_identity if contract else None,
        "instructions": contract.instructions if contract else None,
    }


async def _contract_from_livekit_room(url: str, token: str, room: str, timeout: float):  # type: ignore[no-untyped-def]
    """Join, wait for the room's metadata, validate it; any failure exits with EXIT_CONTRACT."""
    from interview.session_contract import ContractError, load_session
    from transports.livekit import read_room_metadata
    from transports.room_metadata import MetadataTimeout

    try:
        polled = await read_room_metadata(url, token, timeout=timeout)
    except MetadataTimeout as exc:
        fail(f"livekit room {room}: {exc}", EXIT_CONTRACT)
    except Exception as exc:  # the SDK's connection errors have no common base
        fail(f"livekit room {room}: could not join {url}: {type(exc).__name__}: {exc}", EXIT_SESSION_FAILED)
    try:
        return load_session(polled.metadata, f"livekit room {room} metadata")
    except ContractError as exc:
        fail(str(exc), EXIT_CONTRACT)


async def _create_daily_room(settings, config, contract) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """No --room-url: a short-lived private room and tokens via Daily's REST API; prints the join URL."""
    if settings.daily_api_key is None:
        fail("--transport daily needs --room-url, or DAILY_API_KEY to create a room")
    import aiohttp

    from transports.room_api import ROOM_JOIN_WINDOW_SECONDS, create_daily_room

    identity = (contract.candidate_identity if contract else None) or "candidate"
    try:
        async with aiohttp.ClientSession() as http:
            tickets = await create_daily_room(
                api_key=settings.daily_api_key.get_secret_value(),
                api_url=settings.daily_api_url,
                lifetime_seconds=config.timeouts.session_timeout_seconds + ROOM_JOIN_WINDOW_SECONDS,
                candidate_identity=identity,
                candidate_name=contract.candidate_name if contract else None,
                session=http,
            )
    except Exception as exc:  # DailyRESTHelper raises bare Exception with the API's message
        fail(f"daily: could not create a room: {exc}", EXIT_SESSION_FAILED)
    print(f"Candidate join URL: {tickets.join_url}", flush=True)
    return tickets.room, tickets.bot_token


def _mint_livekit_token(settings, room: str) -> str:  # type: ignore[no-untyped-def]
    if not (settings.livekit_api_key and settings.livekit_api_secret):
        fail("--transport livekit needs --token, or LIVEKIT_API_KEY and LIVEKIT_API_SECRET to mint one")
    from transports.livekit import mint_agent_token

    return mint_agent_token(
        settings.livekit_api_key.get_secret_value(), settings.livekit_api_secret.get_secret_value(), room
    )


if __name__ == "__main__":
    sys.exit(main())
