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
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, WebSocket
from loguru import logger

from transports.candidate_page import mount_candidate_page
from transports.common import TransportHandle
from transports.constant_time import same_secret
from transports.websocket import create_websocket_transport

SessionRunner = Callable[[TransportHandle], Awaitable[None]]

CLOSE_POLICY_VIOLATION = 1008
CLOSE_TRY_AGAIN_LATER = 1013


def build_websocket_app(
    run_session: SessionRunner,
    *,
    token: str | None = None,
    max_sessions: int = 20,
    health_details: Callable[[], dict[str, object]] | None = None,
) -> FastAPI:
    """`health_details`: more for `/health` (loop lag, a pool's per-worker load)."""
    app = FastAPI(title="AI interviewer")
    active: set[asyncio.Task] = set()

    @app.get("/health")
    async def health() -> dict[str, object]:
        extra = health_details() if health_details is not None else {}
        return {"status": "ok", "active_sessions": len(active), "max_sessions": max_sessions, **extra}

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
