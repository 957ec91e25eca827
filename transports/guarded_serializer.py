"""Pipecat's protobuf wire format, hardened for input from anyone who can open the socket.

Why: Pipecat's FastAPI transport reads messages in one loop, and any exception from the
serializer ends that loop; the session then ends as if the candidate had left. One text
frame or one undecodable message was enough. Pipecat's serializer also builds whatever a
client sends (text, transcriptions, interruptions) and trusts an audio frame's own sample
rate. Here each message is checked on its own and dropped with a reason (logged at most once
a second per connection): only audio at the session's rate, mono, whole 16-bit samples, and
client messages (RTVI) pass; a flood beyond `max_messages_per_second` is dropped too. The
connection and its session carry on.
"""

from __future__ import annotations

import time
from collections import Counter

from loguru import logger
from pipecat.frames.frames import Frame, InputAudioRawFrame, InputTransportMessageFrame
from pipecat.serializers.protobuf import ProtobufFrameSerializer

MAX_MESSAGE_BYTES = 64 * 1024  # 2 s of 16 kHz audio; the page sends 20-100 ms at a time
MAX_MESSAGES_PER_SECOND = 500  # 10x a 20 ms audio stream plus its client messages


class GuardedSerializer(ProtobufFrameSerializer):
    """ProtobufFrameSerializer that drops, never raises, on anything a candidate should not send."""

    def __init__(
        self,
        *,
        sample_rate: int,
        peer: str = "?",
        max_message_bytes: int = MAX_MESSAGE_BYTES,
        max_messages_per_second: int = MAX_MESSAGES_PER_SECOND,
        clock=time.monotonic,  # type: ignore[no-untyped-def]
    ) -> None:
        super().__init__()
        self._sample_rate = sample_rate
        self._peer = peer
        self._max_bytes = max_message_bytes
        self._max_rate = max_messages_per_second
        self._clock = clock
        self._window_start = clock()
        self._window_count = 0
        self.dropped: Counter[str] = Counter()
        self._last_log = float("-inf")

    async def deserialize(self, data: str | bytes) -> Frame | None:
        reason = self._refuse_raw(data)
        if reason:
            return self._drop(reason)
        try:
            frame = await super().deserialize(data)
        except Exception as exc:  # protobuf's DecodeError, or a field of the wrong type
            return self._drop(f"undecodable message ({type(exc).__name__})")
        if frame is None:
            return self._drop("not a frame a client may send")
        if isinstance(frame, InputAudioRawFrame):
            reason = self._refuse_audio(frame)
            return self._drop(reason) if reason else frame
        if isinstance(frame, InputTransportMessageFrame):
            return frame
        return self._drop(f"clients may not send {type(frame).__name__}")

    def _refuse_raw(self, data: str | bytes) -> str | None:
        now = self._clock()
        if now - self._window_start >= 1.0:
            self._window_start, self._window_count = now, 0
        self._window_count += 1
        if self._window_count > self._max_rate:
            return f"more than {self._max_rate} messages a second"
        if not isinstance(data, (bytes, bytearray)):
            return "text message (the protocol is binary protobuf)"
        if len(data) > self._max_bytes:
            return f"message of {len(data)} bytes (limit {self._max_bytes})"
        return None

    def _refuse_audio(self, frame: InputAudioRawFrame) -> str | None:
        if frame.sample_rate != self._sample_rate:
            return f"audio at {frame.sample_rate} Hz (this session takes {self._sample_rate} Hz)"
        if frame.num_channels != 1:
            return f"audio with {frame.num_channels} channels (mono only)"
        if not frame.audio or len(frame.audio) % 2:
            return f"audio of {len(frame.audio)} bytes (whole 16-bit samples only)"
        return None

    def _drop(self, reason: str) -> Frame | None:
        """Count (and at most once a second log) a message that becomes no frame; returns that no-frame."""
        self.dropped[reason.split(" (")[0]] += 1
        now = self._clock()
        if now - self._last_log >= 1.0:
            self._last_log = now
            logger.warning(f"websocket {self._peer}: dropped a message: {reason} ({sum(self.dropped.values())} so far)")
        return None
