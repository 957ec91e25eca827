"""A WebSocket server that runs one interview session per connection.

Pipecat's `SingleClientWebsocketServerTransport` serves one client at a time;
an interviewer must serve many candidates at once. So this is a FastAPI app on
uvicorn where each accepted `/ws` connection gets its own
`FastAPIWebsocketTransport` and its own session. `/` serves the candidate page
(`transports/candidate_page.py`), which connects back to `/ws`.

Who may connect, checked in this order:
* the Origin, before the socket is accepted (a refusal is an HTTP 403): a browser
  always sends one, so refusing other sites' origins stops a page elsewhere from
  using a candidate's browser (and its cookies, network position) to hold a session.
  Accepted: the page's own origin (the request's Host), `allowed_origins` (`*` = any),
  and no Origin at all (non-browser clients: the simulated candidate, Pipecat's
  evals; the token is what stops those);
* the optional token (`?token=`, constant-time compare); refusals close with a
  reason the client can show;
* a free slot (`max_sessions`).
A socket that never sends audio or `client-ready` within `join_timeout_secs` is
closed (1008), so silent sockets cannot hold every slot.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace
from urllib.parse import urlsplit

from fastapi import FastAPI, WebSocket
from loguru import logger

from transports.candidate_page import mount_candidate_page
from transports.common import SessionRefused, TransportHandle
from transports.constant_time import same_secret
from transports.guarded_serializer import GuardedSerializer
from transports.input_limits import InputLimits
from transports.selector import create_transport
from transports.throttled_log import ThrottledLog, safe_label
from transports.websocket import guarded_serializer

SessionRunner = Callable[[TransportHandle], Awaitable[None]]
RESUME_TOKEN_MAX = 128  # characters of ?resume= looked at (tokens are 43)

CLOSE_POLICY_VIOLATION = 1008
CLOSE_TRY_AGAIN_LATER = 1013


def origin_allowed(origin: str | None, host: str | None, allowed: tuple[str, ...]) -> bool:
    """No Origin (not a browser), the page's own origin, or one listed (`*`: any)."""
    if origin is None:
        return True
    origin = origin.strip().lower().rstrip("/")
    listed = {a.strip().lower().rstrip("/") for a in allowed}
    if "*" in listed or origin in listed:
        return True
    try:
        parts = urlsplit(origin)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(host) and parts.netloc == (host or "").strip().lower()


def build_websocket_app(
    run_session: SessionRunner,
    *,
    token: str | None = None,
    max_sessions: int = 20,
    health_details: Callable[[], dict[str, object]] | None = None,
    limits: InputLimits | None = None,
) -> FastAPI:
    """`health_details`: more for `/health` (loop lag, a pool's per-worker load).

    `limits`: what candidates may send and for how long a silent socket may stay (default: the
    settings as the environment gives them)."""
    limits = limits or InputLimits.from_environment()
    app = FastAPI(title="AI interviewer")
    active: set[asyncio.Task] = set()
    refusals = ThrottledLog("websocket")

    @app.get("/health")
    async def health() -> dict[str, object]:
        extra = health_details() if health_details is not None else {}
        return {"status": "ok", "active_sessions": len(active), "max_sessions": max_sessions, **extra}

    @app.websocket("/ws")
    async def interview_socket(websocket: WebSocket) -> None:
        peer = f"{websocket.client.host}:{websocket.client.port}" if websocket.client else "?"
        origin = websocket.headers.get("origin")
        if not origin_allowed(origin, websocket.headers.get("host"), limits.allowed_origins):
            refusals.warning(f"refused {peer}: Origin {safe_label(origin, 80)} is not allowed", "origin")
            await websocket.close(code=CLOSE_POLICY_VIOLATION)  # before accept: HTTP 403
            return
        await websocket.accept()
        if token is not None and not same_secret(websocket.query_params.get("token", ""), token):
            refusals.warning(f"refused {peer}: invalid or missing token", "token")
            await websocket.close(code=CLOSE_POLICY_VIOLATION, reason="invalid or missing token")
            return
        if len(active) >= max_sessions:
            refusals.warning(f"refused {peer}: {len(active)} sessions running (max {max_sessions})", "full")
            await websocket.close(code=CLOSE_TRY_AGAIN_LATER, reason="server full, try again later")
            return
        task = asyncio.current_task()
        assert task is not None
        active.add(task)
        serializer = guarded_serializer(websocket, limits)
        watchdog = asyncio.create_task(_close_unless_joined(websocket, serializer, limits.join_timeout_secs, peer))
        handle = create_transport("websocket", websocket=websocket, limits=limits, serializer=serializer)
        resume = websocket.query_params.get("resume")
        try:
            await run_session(replace(handle, resume_token=resume[:RESUME_TOKEN_MAX] if resume else None))
        except SessionRefused as refused:
            refusals.warning(f"refused {peer}: {refused.reason}", "refused")
            await websocket.close(code=refused.close_code, reason=refused.reason[:120])
        finally:
            watchdog.cancel()
            active.discard(task)

    mount_candidate_page(app)
    return app


async def _close_unless_joined(websocket: WebSocket, serializer: GuardedSerializer, timeout: float, peer: str) -> None:
    """A slot is for a candidate: a socket with no audio and no client-ready after `timeout` is closed."""
    try:
        await asyncio.wait_for(serializer.active.wait(), timeout)
    except TimeoutError:
        logger.warning(f"websocket {peer}: no audio or client-ready within {timeout:g} s; closing")
        try:
            await websocket.close(code=CLOSE_POLICY_VIOLATION, reason=f"nothing received within {timeout:g} s")
        except Exception:  # already closing
            pass
