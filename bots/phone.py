"""Phone interviews: `python bot.py --transport twilio` serves Twilio calls, one session per call.

Wires the call server (transports/twilio_server.py) to sessions: each accepted
media stream gets its Twilio transport, an `InterviewSession` for the interview
the webhook chose, and the playback marks connected to that session's echo gate
and latency tracker (transports/twilio_marks.py).

A call that ends before the interviewer's goodbye may be a lost line as well as a hang-up
(Twilio reports both as the stream's `stop`): with `RECONNECT_GRACE_SECONDS` > 0 the session
is held, and the same number calling the same line back within the window goes on with it
(`InterviewSession.resume`: "welcome back", the open question; the same record folder). A
caller whose number is withheld cannot be recognised, so their call ends as before.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace

from loguru import logger

from bots.graceful_stop import GracefulStop
from bots.session import InterviewSession, SessionOutcome
from bots.session_server import SessionServer
from bots.suspended_sessions import SuspendedSessions
from interview.config import InterviewConfig, Persona
from interview.loader import bundled_config_names, load_interview_config
from interview.session_snapshot import SnapshotError
from settings import Settings
from transports import TransportHandle, create_transport
from transports.common import SessionRefused
from transports.twilio_marks import PlaybackMarks
from transports.twilio_security import StreamTokens
from transports.twilio_server import TwilioCall, TwilioServerOptions, build_twilio_app


class PhoneSetupError(ValueError):
    """The phone server cannot start (missing setting, unknown interview); the message says which."""


def load_interview_catalog(
    default_source: str, default_config: InterviewConfig, settings: Settings
) -> dict[str, InterviewConfig]:
    """Every interview a call may run, loaded up front so a bad one fails at startup, not mid-call."""
    catalog = {name: load_interview_config(name) for name in bundled_config_names()}
    catalog[default_source] = default_config
    for number, source in settings.twilio_number_interviews.items():
        if source not in catalog:
            try:
                catalog[source] = load_interview_config(source)
            except ValueError as exc:
                raise PhoneSetupError(f"TWILIO_NUMBER_INTERVIEWS[{number!r}]: {exc}") from exc
    return catalog


def server_options(
    settings: Settings, catalog: Mapping[str, InterviewConfig], default_source: str
) -> TwilioServerOptions:
    if not settings.public_host:
        raise PhoneSetupError("--transport twilio needs PUBLIC_HOST (the host Twilio reaches this server at)")
    secret = settings.twilio_stream_token_secret
    try:
        return TwilioServerOptions(
            public_host=settings.public_host,
            auth_token=settings.twilio_auth_token.get_secret_value() if settings.twilio_auth_token else None,
            validate_signatures=settings.twilio_validate_signatures,
            interviews=frozenset(catalog),
            default_interview=default_source,
            number_interviews=dict(settings.twilio_number_interviews),
            tokens=StreamTokens(
                secret.get_secret_value().encode() if secret else None, ttl_secs=settings.twilio_stream_token_ttl_secs
            ),
            max_sessions=settings.max_sessions,
        )
    except ValueError as exc:
        raise PhoneSetupError(str(exc)) from exc


async def run_phone_call(
    settings: Settings,
    config: InterviewConfig,
    call: TwilioCall,
    *,
    persona: Persona,
    candidate_name: str | None = None,
    server: SessionServer | None = None,
    suspensions: SuspendedSessions | None = None,
) -> SessionOutcome:
    """One call, start to finish; the session record is complete however the call ends (SIGTERM included).

    `server`: the call server running it (SIGTERM and a worker pool reach the session through it).
    `suspensions`: where a dropped call's session waits for its caller to call back (and is found again)."""
    marks = PlaybackMarks(call.stream_sid, call_sid=call.call_sid)
    handle = create_transport(
        "twilio",
        websocket=call.websocket,
        stream_sid=call.stream_sid,
        call_sid=call.call_sid,
        account_sid=settings.twilio_account_sid,
        auth_token=settings.twilio_auth_token.get_secret_value() if settings.twilio_auth_token else None,
        api_base_url=settings.twilio_api_base_url,
        marks=marks,
        goodbye_timeout_secs=settings.twilio_goodbye_timeout_secs,
    )
    key = call.caller_key if suspensions is not None and suspensions.enabled else None
    if key is not None:
        handle = replace(handle, left_on_purpose=lambda: False)  # a hang-up before the goodbye may be a lost line
    session = await _called_back(settings, suspensions, key, handle) if key is not None else None
    if session is None:
        session = InterviewSession(settings, config, handle, persona=persona, candidate_name=candidate_name)
    session.record.event("phone_call", call_sid=call.call_sid, stream_sid=call.stream_sid, interview=call.interview)
    if server is not None:
        server.track(session, handle)
    if key is not None and suspensions is not None:
        session.suspend_on_drop = True
        suspensions.started_digest(key)
    try:
        outcome = await session.run()
    finally:
        if server is not None:
            server.untrack(session)
        if key is not None and suspensions is not None and not session.suspended:
            suspensions.ended_digest(key)
    if outcome.suspended and key is not None and suspensions is not None:
        suspensions.hold_digest(key, outcome.directory)
        logger.info(f"call {call.call_sid}: dropped before the goodbye; held for a call back")
    logger.info(
        f"call {call.call_sid}: marks echoed {marks.echoed}, forgotten after clear {marks.forgotten}, "
        f"unknown {marks.unknown_echoes}"
    )
    return outcome


async def _called_back(
    settings: Settings, suspensions: SuspendedSessions | None, key: str, handle: TransportHandle
) -> InterviewSession | None:
    """The held session this caller dropped out of, rebuilt for the new call (None: nothing to go on with)."""
    if suspensions is None or not suspensions.holds_digest(key):
        return None
    try:
        directory = await suspensions.claim_digest(key)
    except SessionRefused as exc:  # its window closed in between
        logger.info(f"a call back found no interview to go on with ({exc}); starting a new one")
        return None
    try:
        return InterviewSession.resume(settings, directory, handle)
    except SnapshotError as exc:
        logger.error(f"session {directory.name} cannot be resumed ({exc}); the caller starts a new interview")
        return None


async def serve_phone_sessions(
    settings: Settings,
    default_source: str,
    default_config: InterviewConfig,
    *,
    persona: Persona,
    host: str,
    port: int,
    once: bool = False,
    candidate_name: str | None = None,
    stop: GracefulStop | None = None,
    worker_channel_fd: int | None = None,
) -> list[SessionOutcome]:
    """Serve the webhook and media streams on host:port; with `once`, stop after the first call ends.

    SIGTERM (`stop`): every call hears a goodbye and finishes its record, then the server exits.
    `worker_channel_fd`: run as one worker of a pool (`bots/worker_pool.py`), which owns the port."""
    catalog = load_interview_catalog(default_source, default_config, settings)
    options = server_options(settings, catalog, default_source)
    server = SessionServer(once=once, stop=stop, worker_channel_fd=worker_channel_fd)
    suspensions = server.suspensions(settings)

    async def run_call(call: TwilioCall) -> None:
        await server.run(
            lambda: run_phone_call(
                settings,
                catalog[call.interview],
                call,
                persona=persona,
                candidate_name=candidate_name,
                server=server,
                suspensions=suspensions,
            )
        )

    app = build_twilio_app(run_call, options, health_details=server.health_details)
    try:
        return await server.serve(
            app, host, port, lambda bound_port: print_phone_ready(host, bound_port, options.public_host, catalog)
        )
    finally:
        await suspensions.finish_all()


def print_phone_ready(host: str, port: int, public_host: str, catalog: Mapping[str, object], workers: int = 1) -> None:
    """The line the tests and a person read: where media streams and the webhook are."""
    pool = f" ({workers} worker processes)" if workers > 1 else ""
    print(
        f"Phone interview server listening on ws://{host}:{port}/twilio/media "
        f"(webhook http://{host}:{port}/twilio/voice, public https://{public_host}/twilio/voice; "
        f"interviews: {json.dumps(sorted(catalog))}){pool}",
        flush=True,
    )
