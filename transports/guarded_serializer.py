"""Pipecat's protobuf wire format, hardened for input from anyone who can open the socket.

Why: Pipecat's FastAPI transport reads messages in one loop, and any exception from the
serializer ends that loop; the session then ends as if the candidate had left. One text
frame or one undecodable message was enough. Pipecat's serializer also builds whatever a
client sends (text, transcriptions, interruptions) and trusts an audio frame's own sample
rate. Here each message is checked on its own and dropped with a reason (logged at most once
a second per connection), and the connection and its session carry on. What passes:

* audio at the session's rate, mono, whole 16-bit samples, at most `audio_realtime_factor`
  times real time (a token bucket in audio seconds, `audio_burst_secs` deep): a client under
  the message-rate cap could otherwise push ~900x real time into the pipeline's unbounded
  queues and the recording;
* the RTVI messages the candidate page sends (`transports/client_messages.py`), each refusal
  answered with RTVI's `error-response` through `reply` once the transport is built;
* nothing beyond `max_messages_per_second`.

`active` is set by the first accepted audio or `client-ready`: the server closes a socket that
holds a session slot without ever becoming active (`transports/websocket_server.py`).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from pipecat.frames.frames import Frame, InputAudioRawFrame, InputTransportMessageFrame
from pipecat.serializers.protobuf import ProtobufFrameSerializer

from transports.client_messages import ClientMessagePolicy
from transports.input_limits import AUDIO_BURST_SECS, AUDIO_REALTIME_FACTOR
from transports.throttled_log import ThrottledLog

MAX_MESSAGE_BYTES = 64 * 1024  # 2 s of 16 kHz audio; the page sends 20-100 ms at a time
MAX_MESSAGES_PER_SECOND = 500  # 10x a 20 ms audio stream plus its client messages

Reply = Callable[[dict[str, Any]], Awaitable[None]]


class AudioBudget:
    """Token bucket in seconds of audio: refills at `rate` audio-seconds per second, holds `burst`."""

    def __init__(self, rate: float, burst: float, clock: Callable[[], float]) -> None:
        self._rate, self._burst, self._clock = rate, burst, clock
        self._level = burst
        self._at = clock()

    def take(self, seconds: float) -> bool:
        now = self._clock()
        self._level = min(self._burst, self._level + (now - self._at) * self._rate)
        self._at = now
        if seconds > self._level:
            return False
        self._level -= seconds
        return True


class GuardedSerializer(ProtobufFrameSerializer):
    """ProtobufFrameSerializer that drops, never raises, on anything a candidate should not send."""

    def __init__(
        self,
        *,
        sample_rate: int,
        peer: str = "?",
        max_message_bytes: int = MAX_MESSAGE_BYTES,
        max_messages_per_second: int = MAX_MESSAGES_PER_SECOND,
        policy: ClientMessagePolicy | None = None,
        audio_realtime_factor: float = AUDIO_REALTIME_FACTOR,
        audio_burst_secs: float = AUDIO_BURST_SECS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self._sample_rate = sample_rate
        self._peer = peer
        self._max_bytes = max_message_bytes
        self._max_rate = max_messages_per_second
        self._clock = clock
        self._window_start = clock()
        self._window_count = 0
        self._audio = AudioBudget(audio_realtime_factor, audio_burst_secs, clock)
        self.policy = policy or ClientMessagePolicy(peer=peer, clock=clock)
        self.reply: Reply | None = None  # set by the transport: sends an RTVI message to this client
        self.active = asyncio.Event()
        self.dropped: Counter[str] = Counter()
        self._log = ThrottledLog(f"websocket {peer}", clock=clock)

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
            if reason:
                return self._drop(reason)
            self.active.set()
            return frame
        if isinstance(frame, InputTransportMessageFrame):
            return await self._message(frame)
        return self._drop(f"clients may not send {type(frame).__name__}")

    async def _message(self, frame: InputTransportMessageFrame) -> Frame | None:
        size = len(json.dumps(frame.message, separators=(",", ":"), default=str))
        refusal = self.policy.check(frame.message, size)
        if refusal is None:
            if self.policy.client_ready:
                self.active.set()
            return frame
        self.dropped[f"RTVI {refusal.kind}"] += 1
        if refusal.reply is not None and self.reply is not None:
            try:
                await self.reply(refusal.reply)
            except Exception as exc:  # the socket is closing: the refusal still stands
                self._log.warning(f"could not send an error-response ({type(exc).__name__})")
        return None

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
        if not self._audio.take(len(frame.audio) / 2 / self._sample_rate):
            return "audio faster than real time (over the audio budget)"
        return None

    def _drop(self, reason: str) -> Frame | None:
        """Count (and at most once a second log) a message that becomes no frame; returns that no-frame."""
        self.dropped[reason.split(" (")[0]] += 1
        self._log.warning(f"dropped a message: {reason} ({sum(self.dropped.values())} so far)")
        return None
