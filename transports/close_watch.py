"""How the candidate's socket closed: on purpose (End pressed) or dropped (reload, network).

Pipecat's FastAPI transport reads the socket and fires `on_client_disconnected` without the
close code; a session needs it to tell an ended interview from one to hold for the
candidate's return. This watches the ASGI receive channel of the one socket for the
`websocket.disconnect` message and keeps its code.

    1000         the client closed normally (a client that finished): on purpose
    1001         the page went away (reload, tab closed): a drop — the link may be opened again
    1005 / other no status (uvicorn reports a lost connection so, and a browser's bare close()): a drop

The candidate page's End says so in words first (an RTVI `end-interview` client message, which the
session hears), since a browser's close carries no code.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import WebSocket

ON_PURPOSE_CODES = frozenset({1000})


class CloseWatch:
    """Wraps `websocket.receive` (one socket) to remember the client's close code."""

    def __init__(self, websocket: WebSocket) -> None:
        self.code: int | None = None
        receive: Callable[[], Awaitable[Any]] = websocket.receive

        async def watched_receive() -> Any:
            message = await receive()
            if isinstance(message, dict) and message.get("type") == "websocket.disconnect":
                self.code = int(message.get("code") or 1005)
            return message

        websocket.receive = watched_receive  # type: ignore[method-assign]

    def left_on_purpose(self) -> bool:
        """True unless the socket closed without the client saying it was done."""
        return self.code is None or self.code in ON_PURPOSE_CODES
