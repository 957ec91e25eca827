"""How sessions are started per transport kind.

Connection-accepting transports (websocket) run a server with a session per
connection; room-joining ones (daily, livekit) run exactly one session in this
process and return its outcome.
"""

from __future__ import annotations

import asyncio

from loguru import logger

from bots.session import InterviewSession, SessionOutcome
from interview.config import InterviewConfig
from interview.structured_interviewer import Persona
from settings import Settings
from transports import TransportHandle, create_transport
from transports.websocket_server import build_websocket_app, serve


async def serve_websocket_sessions(
    settings: Settings,
    config: InterviewConfig,
    *,
    persona: Persona,
    host: str,
    port: int,
    once: bool = False,
    candidate_name: str | None = None,
) -> list[SessionOutcome]:
    """Serve `ws://host:port/ws`; with `once`, stop after the first session ends."""
    outcomes: list[SessionOutcome] = []
    done = asyncio.Event()

    async def run_session(handle: TransportHandle) -> None:
        session = InterviewSession(settings, config, handle, persona=persona, candidate_name=candidate_name)
        outcomes.append(await session.run())
        print(f"Session record: {session.record.directory}", flush=True)
        if once:
            done.set()

    token = settings.websocket_token.get_secret_value() if settings.websocket_token else None
    app = build_websocket_app(run_session, token=token, max_sessions=settings.max_sessions)

    def on_ready(bound_port: int) -> None:
        print(f"Interview server listening on ws://{host}:{bound_port}/ws", flush=True)

    server = asyncio.create_task(serve(app, host, port, on_ready))
    waiter = asyncio.create_task(done.wait())
    finished, _ = await asyncio.wait({server, waiter}, return_when=asyncio.FIRST_COMPLETED)
    for task in (server, waiter):
        if task not in finished:
            task.cancel()
    if server in finished and server.exception() is not None:
        raise server.exception()  # type: ignore[misc]
    return outcomes


async def run_room_session(
    settings: Settings,
    config: InterviewConfig,
    *,
    kind: str,
    persona: Persona,
    candidate_name: str | None = None,
    **transport_args: object,
) -> SessionOutcome:
    """Join one Daily/LiveKit room and run its interview to the end."""
    handle = create_transport(kind, **transport_args)  # type: ignore[arg-type]
    session = InterviewSession(settings, config, handle, persona=persona, candidate_name=candidate_name)
    outcome = await session.run()
    logger.info(f"Session record: {outcome.directory}")
    return outcome
