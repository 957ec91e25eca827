"""The client-message allow-list for room transports (Daily, LiveKit).

Why here and not in `TransportHandle.after_input`: the transports broadcast each app message
both ways, and the RTVI processor (prepended before the whole pipeline by `PipelineWorker`) gets
the upstream copy straight from the input transport, before any processor after the input sees
anything. So the room transports check a message where they receive it; a refused one becomes
no frame and no `on_app_message` event, and its sender gets RTVI's `error-response`.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from transports.client_messages import ClientMessagePolicy, Refusal
from transports.input_limits import InputLimits

SendReply = Callable[[dict[str, Any], str | None], Awaitable[None]]


class RoomMessageGuard:
    """`admit(message, sender, reply)`: True to deliver it, False when refused (after replying)."""

    def __init__(self, limits: InputLimits, peer: str) -> None:
        self.policy = ClientMessagePolicy(
            allowed=limits.rtvi_messages, max_bytes=limits.client_message_max_bytes, peer=peer
        )

    async def admit(self, message: Any, sender: str | None, reply: SendReply, size: int | None = None) -> bool:
        refusal: Refusal | None = self.policy.check(message, size if size is not None else _size(message))
        if refusal is None:
            return True
        if refusal.reply is not None:
            try:
                await reply(refusal.reply, sender)
            except Exception:  # leaving the room: the refusal still stands
                pass
        return False


def _size(message: Any) -> int:
    try:
        return len(json.dumps(message, separators=(",", ":"), default=str))
    except (TypeError, ValueError):  # a circular structure cannot come off the wire, but never raise
        return 1 << 30
