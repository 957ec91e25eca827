"""The listener's playback-started mark: the message a browser or simulated client sends when it starts hearing a reply.

It closes the listener leg of a turn (transport writes -> candidate hears). Twilio's own
`mark` echoes arrive another way (pipelines/listener_playback.py).
"""

from __future__ import annotations

from typing import Any

PLAYBACK_STARTED = "playback-started"
RTVI_LABEL = "rtvi-ai"


def parse_playback_mark(message: Any) -> dict[str, Any] | None:
    """The payload of a playback-started message, RTVI-wrapped or plain, else None.

    RTVI form (what scripts/candidate_client.py sends):
        {"label": "rtvi-ai", "type": "client-message", "data": {"t": "playback-started", "d": {"turn": N, "client_time": T}}}
    Plain form (accepted too): {"type": "playback-started", "turn": N, "client_time": T}
    """
    if not isinstance(message, dict):
        return None
    if message.get("label") == RTVI_LABEL and message.get("type") == "client-message":
        data = message.get("data")
        if isinstance(data, dict) and data.get("t") == PLAYBACK_STARTED:
            payload = data.get("d")
            return payload if isinstance(payload, dict) else {}
        return None
    if message.get("type") == PLAYBACK_STARTED:
        return message
    return None
