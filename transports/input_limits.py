"""The limits every candidate-facing transport applies to what a client sends, as one value.

Why one value: the WebSocket server, its serializer and the room transports apply the same policy
(which RTVI messages, how big, how much audio, how long a silent socket may hold a slot, which
origins); the settings (`settings.py`, `.env.example`) fill it once and it travels to each.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from settings import Settings

# What the candidate page (web/) and Pipecat's client SDK send: `client-ready` once, then
# `client-message` (the "playback-started" marks). No keep-alive or ping message exists in the
# RTVI client protocol; the WebSocket transport's keep-alive is off in the page.
DEFAULT_RTVI_MESSAGES = ("client-ready", "client-message")
CLIENT_MESSAGE_MAX_BYTES = 4096  # a playback mark is ~150 bytes
AUDIO_REALTIME_FACTOR = 2.0  # audio seconds accepted per second of wall time
AUDIO_BURST_SECS = 3.0  # the page sends the audio it queued before bot-ready in one go
JOIN_TIMEOUT_SECS = 30.0


@dataclass(frozen=True)
class InputLimits:
    """Defaults are the safe policy; `from_settings` reads the deployment's."""

    rtvi_messages: tuple[str, ...] = DEFAULT_RTVI_MESSAGES
    client_message_max_bytes: int = CLIENT_MESSAGE_MAX_BYTES
    audio_realtime_factor: float = AUDIO_REALTIME_FACTOR
    audio_burst_secs: float = AUDIO_BURST_SECS
    join_timeout_secs: float = JOIN_TIMEOUT_SECS
    # Empty: only the page's own origin (the request's Host) and clients that send no Origin.
    allowed_origins: tuple[str, ...] = ()

    @classmethod
    def from_settings(cls, settings: Settings) -> InputLimits:
        return cls(
            rtvi_messages=tuple(settings.rtvi_allowed_messages),
            client_message_max_bytes=settings.client_message_max_bytes,
            audio_realtime_factor=settings.audio_in_realtime_factor,
            audio_burst_secs=settings.audio_in_burst_secs,
            join_timeout_secs=settings.websocket_join_timeout_secs,
            allowed_origins=tuple(settings.websocket_allowed_origins),
        )

    @classmethod
    def from_environment(cls) -> InputLimits:
        """The settings as the environment and `.env` give them (for callers not handed a Settings)."""
        from settings import Settings

        return cls.from_settings(Settings())
