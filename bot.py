"""The interviewer command: `python bot.py --transport {websocket,twilio,daily,livekit} ...`.

Parses flags, loads settings and the interview config (failing fast with one
line naming what is wrong), then serves the transport kind as its row in
bots/serving.py (the one table of kinds) says.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, get_args

from loguru import logger

from bots.exit_codes import EXIT_CONTRACT, EXIT_OK, EXIT_RESUME, EXIT_USAGE, exit_code_for
from interview.config import Persona
from transports.common import TRANSPORT_KINDS

if TYPE_CHECKING:  # `bot.py --help` and flag errors stay free of the heavy imports
    from bots.serving import ServeRequest
    from interview.config import InterviewConfig
    from settings import Settings

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
        "(needs PUBLIC_HOST and the TWILIO_* settings, see docs/running.md).",
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
        choices=get_args(Persona),
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
        "--resume",
        metavar="DIR",
        help="websocket, daily, livekit: go on with the session recorded in DIR (a session record whose bot "
        "died): the interview, its clocks and context come from the record; websocket takes back only that "
        "session's candidate (its last resume token), rooms rejoin the room. The launcher uses this.",
    )
    parser.add_argument(
        "--listen-fd",
        type=int,
        metavar="FD",
        help="websocket: serve on this inherited listening socket instead of --host/--port (the launcher keeps "
        "a session's socket, so its URL outlives a bot that dies).",
    )
    parser.add_argument(
        "--close-record",
        metavar="DIR",
        help="finish the session record in DIR as it stood at its last snapshot (evaluation, latency, report, "
        "end reason bot_crashed) and exit: what the launcher does when a session's bot cannot be replaced.",
    )
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
    _check_resume_flags(args)
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
    from bots.serving import SERVING, ServeError, ServeRequest
    from interview.session_contract import ContractError, load_session

    if args.close_record:
        return _close_record(settings, args.close_record)
    serving = SERVING[args.transport]
    contract = None
    try:
        if args.resume:
            config = _resumed_interview(args.resume)
            if args.contract:  # the candidate and instructions; the interview is the record's
                contract, _ = load_session(_read_text(args.contract), f"session contract {args.contract}")
        elif args.contract:
            contract, config = load_session(_read_text(args.contract), f"session contract {args.contract}")
        elif args.config or not serving.config_from_room:
            config = load_interview_config(args.config or DEFAULT_CONFIG)
        else:
            config = None  # from the room's metadata once joined
    except ContractError as exc:
        fail(str(exc), EXIT_CONTRACT)
    except ConfigError as exc:
        fail(str(exc))

    request = ServeRequest(
        settings=settings,
        config=config,
        contract=contract,
        config_source=args.config or DEFAULT_CONFIG,
        persona=args.persona,
        host=args.host or settings.host,
        port=settings.port if args.port is None else args.port,
        once=args.once,
        candidate_name=args.candidate_name,
        room_url=args.room_url,
        room=args.room,
        url=args.url,
        token=args.token,
        worker_channel_fd=args.worker_channel,
        listen_fd=args.listen_fd,
        resume=Path(args.resume) if args.resume else None,
    )
    from bots.startup_checks import StartupError, check_sessions_can_start
    from services.factory import ProviderConfigError
    from services.model_files import LocalModelError

    try:
        workers = _pool_size(args, settings, poolable=serving.pool_ready is not None)
        if workers > 1:
            assert serving.pool_ready is not None
            return _run_pool(argv, request, serving.pool_ready(request), workers)
        # Every transport: providers, scorer, record folder and one copy of each embedded model,
        # checked before the first session (servers would otherwise fail per connection).
        check_sessions_can_start(settings, serving.interviews(request))
        return asyncio.run(_serve(serving.serve, request))
    except ServeError as exc:
        fail(str(exc), exc.code)
    except (StartupError, ProviderConfigError, LocalModelError) as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        return EXIT_OK
    except asyncio.CancelledError:  # cancelled from outside
        return exit_code_for("stopped")


def _check_resume_flags(args: argparse.Namespace) -> None:
    """--resume, --listen-fd and --close-record: only where they mean something."""
    from bots.serving import SERVING

    serving = SERVING[args.transport]
    if args.resume and not serving.resumed_by_new_bot:
        fail("--resume: a phone session is resumed by calling back, not by a new bot")
    if args.listen_fd is not None and (not serving.serves_inherited_socket or args.listen_fd < 3):
        fail("--listen-fd: websocket only, an inherited descriptor (3 or more)")
    if args.listen_fd is not None:
        import socket

        try:
            kind = socket.socket(fileno=os.dup(args.listen_fd))
        except OSError as exc:
            fail(f"--listen-fd {args.listen_fd}: not an open socket ({exc.strerror or exc})")
        with kind:
            if kind.type != socket.SOCK_STREAM or kind.family not in (socket.AF_INET, socket.AF_INET6):
                fail(f"--listen-fd {args.listen_fd}: not a TCP socket")
    for flag in ("resume", "close_record"):
        directory = getattr(args, flag)
        if directory and not os.path.isdir(directory):
            fail(f"--{flag.replace('_', '-')} {directory}: not a session record folder", EXIT_RESUME)


def _resumed_interview(directory: str) -> InterviewConfig:
    """The interview of the record to resume; EXIT_RESUME naming what is wrong (ended, corrupt, ...)."""
    from pydantic import ValidationError

    from bots.session_record import read_resumable_record
    from interview.config import InterviewConfig
    from interview.loader import describe_validation_error
    from interview.session_snapshot import SnapshotError

    try:
        config_data, _ = read_resumable_record(Path(directory))
        return InterviewConfig.model_validate(config_data["interview"])
    except SnapshotError as exc:
        fail(f"--resume: {exc}", EXIT_RESUME)
    except ValidationError as exc:
        fail(f"--resume {directory}: config.json: {describe_validation_error(exc)}", EXIT_RESUME)


def _close_record(settings: Settings, directory: str) -> int:
    """--close-record: the session's bot died and could not be replaced; its record is finished as it stood."""
    from bots.suspended_record import finish_suspended_record
    from interview.session_snapshot import SnapshotError

    try:
        asyncio.run(
            finish_suspended_record(settings, Path(directory), reason="bot_crashed", why="bot_replacements_exhausted")
        )
    except SnapshotError as exc:
        fail(f"--close-record: {exc}", EXIT_RESUME)
    print(f"Session record: {directory}", flush=True)
    return exit_code_for("bot_crashed")


def _pool_size(args: argparse.Namespace, settings: Settings, *, poolable: bool) -> int:
    """How many worker processes serve this port: 1 (no pool) for rooms, --once and the workers themselves."""
    from bots.worker_pool import worker_count

    requested = settings.workers if args.workers is None else args.workers
    if requested < 0:
        fail(f"--workers {requested}: must be 0 (one per core) or more")
    if not poolable or args.once or args.worker_channel is not None:
        return 1
    return worker_count(requested)


def _run_pool(argv: list[str], request: ServeRequest, on_ready: Callable[[int, int], None], workers: int) -> int:
    """The pool's primary: owns the port, starts the workers (each checks and loads everything itself)."""
    from bots.worker_pool import WorkerPool

    pool = WorkerPool(
        [os.path.abspath(__file__), *argv],
        workers=workers,
        max_sessions_per_worker=request.settings.max_sessions,
        host=request.host,
        port=request.port,
    )
    try:
        return asyncio.run(pool.serve(lambda bound_port: on_ready(bound_port, workers)))
    except OSError as exc:
        fail(f"cannot listen on {request.host}:{request.port}: {exc.strerror}")


async def _serve(serve: Callable[[ServeRequest], Awaitable[int]], request: ServeRequest) -> int:
    from services.local_models import configure_default_executor

    configure_default_executor(asyncio.get_running_loop())
    return await serve(request)


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


if __name__ == "__main__":
    sys.exit(main())
