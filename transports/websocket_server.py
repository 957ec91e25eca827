"""A WebSocket server that runs one interview session per connection.

Pipecat's `SingleClientWebsocketServerTransport` serves one client at a time;
an interviewer must serve many candidates at once. So this is a FastAPI app on
uvicorn where each accepted `/ws` connection gets its own
`FastAPIWebsocketTransport` and its own session. Optional shared-secret token
(`?token=`); refusals close with a reason the client can show. `/` serves the
candidate page (`transports/candidate_page.py`), which connects back to `/ws`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import uvicorn
from fastapi import FastAPI, WebSocket
from loguru import logger

from transports.candidate_page import mount_candidate_page
from transports.common import TransportHandle
from transports.constant_time import same_secret
from transports.websocket import create_websocket_transport

SessionRunner = Callable[[TransportHandle], Awaitable[None]]

CLOSE_POLICY_VIOLATION = 1008
CLOSE_TRY_AGAIN_LATER = 1013


def build_websocket_app(run_session: SessionRunner, *, token: str | None = None, max_sessions: int = 20) -> FastAPI:
    app = FastAPI(title="AI interviewer")
    active: set[asyncio.Task] = set()

    @app.get("/health")
    async def health() -> dict[str, object]:
        return {"status": "ok", "active_sessions": len(active), "max_sessions": max_sessions}

    @app.websocket("/ws")
    async def interview_socket(websocket: WebSocket) -> None:
        await websocket.accept()
        peer = f"{websocket.client.host}:{websocket.client.port}" if websocket.client else "?"
        if token is not None and not same_secret(websocket.query_params.get("token", ""), token):
            logger.warning(f"refused websocket from {peer}: invalid or missing token")
            await websocket.close(code=CLOSE_POLICY_VIOLATION, reason="invalid or missing token")
            return
        if len(active) >= max_sessions:
            logger.warning(f"refused websocket from {peer}: {len(active)} sessions running (max {max_sessions})")
            await websocket.close(code=CLOSE_TRY_AGAIN_LATER, reason="server full, try again later")
            return
        task = asyncio.current_task()
        assert task is not None
        active.add(task)
        try:
            await run_session(create_websocket_transport(websocket))
        finally:
            active.discard(task)

    mount_candidate_page(app)
    return app


class _Server(uvicorn.Server):
    """uvicorn, leaving signals to the bot: its own SIGTERM handling waits for open sockets, so
    sessions never ended. The bot's SIGTERM ends each session (goodbye, record) and then the server."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve(
    app: FastAPI,
    host: str,
    port: int,
    on_ready: Callable[[int], None] | None = None,
    *,
    ws_max_size: int = 16 * 1024 * 1024,
) -> None:
    """Run uvicorn until cancelled or interrupted; `on_ready` gets the bound port (useful with port 0).

    `ws_max_size`: a larger WebSocket message closes that connection (code 1009), nothing else."""
    server = _Server(
        uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off", ws_max_size=ws_max_size)
    )
    serve_task = asyncio.create_task(server.serve())
    while not server.started and not serve_task.done():  # noqa: ASYNC110 - polls state that has no event to await
        await asyncio.sleep(0.02)
    if server.started and on_ready is not None:
        on_ready(server.servers[0].sockets[0].getsockname()[1])
    await serve_task


async def serve_until(
    app: FastAPI,
    host: str,
    port: int,
    done: asyncio.Event,
    on_ready: Callable[[int], None] | None = None,
    **serve_options: Any,
) -> None:
    """`serve`, but return once `done` is set (e.g. `--once`); a server failure is raised."""
    server = asyncio.create_task(serve(app, host, port, on_ready, **serve_options))
    waiter = asyncio.create_task(done.wait())
    finished, _ = await asyncio.wait({server, waiter}, return_when=asyncio.FIRST_COMPLETED)
    for task in (server, waiter):
        if task not in finished:
            task.cancel()
    if server in finished and server.exception() is not None:
        raise server.exception()  # type: ignore[misc]
