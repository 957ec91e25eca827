"""Which client (RTVI) messages a session takes: the candidate page's, nothing else.

Why: Pipecat 1.14's `RTVIProcessor` has no allow-list. `send-text` puts words into the LLM context
that never reach the transcript (and can steer tools such as ending the interview), `raw-audio`
pushes audio of any rate and channel count past the serializer's checks, `llm-function-call-result`,
`send-file`, `dtmf` and `disconnect-bot` are all acted on, and a message that is not RTVI is logged
in full at WARNING. The RTVI processor sits *before* the transport's input in the pipeline and gets
each client message as the upstream copy of the transport's broadcast, so no processor after the
input can filter it: the check runs where a message is received (the WebSocket serializer, the room
transports' message handlers), before any frame exists.

A refused message becomes no frame; the client gets RTVI's `error-response` when the message had an
id (naming the type, never the content), and the log gets at most one line a second.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from pipecat.processors.frameworks.rtvi.models import MESSAGE_LABEL

from transports.input_limits import CLIENT_MESSAGE_MAX_BYTES, DEFAULT_RTVI_MESSAGES
from transports.throttled_log import ThrottledLog, safe_label

ID_MAX = 200  # RTVI ids are UUIDs; an id is echoed back, so it is bounded too


@dataclass(frozen=True)
class Refusal:
    """Why a client message was dropped, and the RTVI reply owed to the client (if it gave an id)."""

    kind: str  # a safe, short name: the RTVI type, or what the message was instead
    reason: str
    reply: dict[str, Any] | None = None


class ClientMessagePolicy:
    """`check(message, size)`: None to let it through, else the `Refusal` (counted, throttled-logged)."""

    def __init__(
        self,
        *,
        allowed: Iterable[str] = DEFAULT_RTVI_MESSAGES,
        max_bytes: int = CLIENT_MESSAGE_MAX_BYTES,
        peer: str = "?",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.allowed = frozenset(allowed)
        self.max_bytes = max_bytes
        self.refused: Counter[str] = Counter()
        self.client_ready = False
        self._log = ThrottledLog(f"client {peer}", clock=clock)

    def check(self, message: Any, size: int) -> Refusal | None:
        refusal = self._refusal(message, size)
        if refusal is None:
            if isinstance(message, dict) and message.get("type") == "client-ready":
                self.client_ready = True
            return None
        self.refused[refusal.kind] += 1
        self._log.warning(
            f"refused RTVI {refusal.kind}: {refusal.reason} ({sum(self.refused.values())} refused so far)"
        )
        return refusal

    def _refusal(self, message: Any, size: int) -> Refusal | None:
        if not isinstance(message, dict):
            return Refusal(f"non-object ({type(message).__name__})", "not a JSON object")
        if message.get("label") != MESSAGE_LABEL:
            return Refusal("non-RTVI message", f"label {safe_label(message.get('label'))} (only RTVI is accepted)")
        kind, message_id = message.get("type"), message.get("id")
        reply_to = message_id if isinstance(message_id, str) and 0 < len(message_id) <= ID_MAX else None
        if not isinstance(kind, str):
            return Refusal("untyped message", "no type", _error(reply_to, "message has no type"))
        name = safe_label(kind)
        if reply_to is None:
            return Refusal(name, "no id (or an id over 200 characters)")
        if kind not in self.allowed:
            return Refusal(name, "type not accepted", _error(reply_to, f"{name} is not accepted by this server"))
        if size > self.max_bytes:
            return Refusal(name, f"{size} bytes (limit {self.max_bytes})", _error(reply_to, f"{name} too large"))
        if kind == "client-message":
            data = message.get("data")
            if not isinstance(data, dict) or not isinstance(data.get("t"), str):
                return Refusal(name, "data.t missing", _error(reply_to, "client-message needs data.t"))
        return None


def _error(message_id: str | None, error: str) -> dict[str, Any] | None:
    """RTVI's `error-response` (what `RTVIProcessor._send_error_response` sends)."""
    if message_id is None:
        return None
    return {"label": MESSAGE_LABEL, "type": "error-response", "id": message_id, "data": {"error": error}}
