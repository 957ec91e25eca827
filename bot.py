"""The interviewer command: `python bot.py --transport {websocket,twilio,daily,livekit} ...`.

Parses flags, loads settings and the interview config (failing fast with one
line naming what is wrong), then hands over to bots/runners.py.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from typing import NoReturn

from loguru import logger

from transports.common import TRANSPORT_KINDS

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_SESSION_FAILED = 1

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
        help="websocket: serve ws://HOST:PORT/ws, one session per connection (offline testing, web clients). "
        "daily / livekit: join one room and interview whoever joins. "
        "twilio: phone interviews over Twilio Media Streams (not runnable yet, see README).",
    )
    parser.add_argument(
        "--config",
        default="senior_backend_engineer",
        help="interview config: a .yaml/.json file or a bundled name (senior_backend_engineer, qualitative_research). "
        "Default: %(default)s.",
    )
    parser.add_argument(
        "--persona",
        choices=("interviewer", "coach"),
        default="interviewer",
        help="interviewer: a real interview. coach: practice mode with feedback after each answer.",
    )
    parser.add_argument("--host", help="address to listen on (websocket). Default: setting HOST (127.0.0.1).")
    parser.add_argument("--port", type=int, help="port to listen on, 0 = any free port. Default: setting PORT (8765).")
    parser.add_argument("--once", action="store_true", help="websocket: exit after the first session ends.")
    parser.add_argument("--candidate-name", help="the candidate's name, used in the greeting and the record.")
    parser.add_argument("--room-url", help="daily: the room URL to join.")
    parser.add_argument("--room", help="livekit: the room name to join.")
    parser.add_argument("--url", help="livekit: server URL (default: setting LIVEKIT_URL).")
    parser.add_argument(
        "--token",
        help="daily/livekit: the bot's join token. livekit: minted from LIVEKIT_API_KEY/SECRET when omitted.",
    )
    return parser


def fail(message: str) -> NoReturn:
    print(f"bot.py: error: {message}", file=sys.stderr)
    raise SystemExit(EXIT_USAGE)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

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
    try:
        config = load_interview_config(args.config)
    except ConfigError as exc:
        fail(str(exc))

    from services.factory import ProviderConfigError

    try:
        return asyncio.run(_run(args, settings, config))
    except ProviderConfigError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        return EXIT_OK


async def _run(args: argparse.Namespace, settings, config) -> int:  # type: ignore[no-untyped-def]
    from bots.runners import run_room_session, serve_websocket_sessions

    if args.transport == "websocket":
        host = args.host or settings.host
        port = settings.port if args.port is None else args.port
        outcomes = await serve_websocket_sessions(
            settings, config, persona=args.persona, host=host, port=port, once=args.once, candidate_name=args.candidate_name
        )
        return EXIT_OK if all(o.end_reason != "error" for o in outcomes) else EXIT_SESSION_FAILED
    if args.transport == "daily":
        if not args.room_url:
            fail("--transport daily needs --room-url (and --token for private rooms)")
        outcome = await run_room_session(
            settings, config, kind="daily", persona=args.persona, candidate_name=args.candidate_name,
            room_url=args.room_url, token=args.token,
        )
        return EXIT_OK if outcome.end_reason != "error" else EXIT_SESSION_FAILED
    if args.transport == "livekit":
        url = args.url or settings.livekit_url
        if not url or not args.room:
            fail("--transport livekit needs --room and --url (or setting LIVEKIT_URL)")
        token = args.token or _mint_livekit_token(settings, args.room)
        outcome = await run_room_session(
            settings, config, kind="livekit", persona=args.persona, candidate_name=args.candidate_name,
            url=url, token=token, room_name=args.room,
        )
        return EXIT_OK if outcome.end_reason != "error" else EXIT_SESSION_FAILED
    fail("--transport twilio: the phone-call server (webhook, media stream, marks) is not built yet")


def _mint_livekit_token(settings, room: str) -> str:  # type: ignore[no-untyped-def]
    if not (settings.livekit_api_key and settings.livekit_api_secret):
        fail("--transport livekit needs --token, or LIVEKIT_API_KEY and LIVEKIT_API_SECRET to mint one")
    from transports.livekit import mint_agent_token

    return mint_agent_token(
        settings.livekit_api_key.get_secret_value(), settings.livekit_api_secret.get_secret_value(), room
    )


if __name__ == "__main__":
    sys.exit(main())
