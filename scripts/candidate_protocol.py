"""Client side of the bot's WebSocket: opening it, and Pipecat's ProtobufFrameSerializer wire format.

Why: the bot's WebSocket server speaks binary protobuf ``Frame`` messages with a ``oneof`` of
text / audio / transcription / message / interruption. A browser client would use
pipecat-client-js; this module is the few lines a Python client needs, built on the schema that
ships in the pipecat wheel so the two sides cannot drift apart.

Wire facts worth knowing (pipecat 1.14):
- inbound audio must carry ``sample_rate`` and ``num_channels``: the server builds an
  ``InputAudioRawFrame`` straight from the fields, and a missing (zero) value breaks it later;
- transport messages are a ``message`` frame whose ``data`` is a JSON string;
- the server paces outbound audio at about twice real time, so a client must buffer what it
  receives and play it on its own clock.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidHandshake, InvalidStatus, InvalidURI

RTVI_LABEL = "rtvi-ai"
RTVI_CLIENT_VERSION = "2.2.0"  # pipecat 1.14's RTVI PROTOCOL_VERSION

_pb: ModuleType | None = None


class CandidateConnectionError(RuntimeError):
    """The bot could not be reached or refused the WebSocket; the message is one line."""


async def open_connection(url: str, origin: str | None = None, open_timeout: float = 10.0) -> ClientConnection:
    """Open the WebSocket, turning every way it can fail into a one-line CandidateConnectionError."""
    where = f"cannot connect to {url}"
    try:
        # No permessage-deflate: PCM barely compresses and real-time clients skip it.
        return await connect(url, origin=origin, compression=None, open_timeout=open_timeout)  # type: ignore[arg-type]
    except InvalidURI as exc:
        raise CandidateConnectionError(f"{where}: not a WebSocket URL ({exc})") from exc
    except InvalidStatus as exc:
        response = exc.response
        body = response.body.decode("utf-8", "replace").strip()[:200] if response.body else ""
        detail = f"HTTP {response.status_code} {response.reason_phrase}".strip() + (f": {body}" if body else "")
        raise CandidateConnectionError(f"{where}: server rejected the WebSocket handshake ({detail})") from exc
    except InvalidHandshake as exc:
        raise CandidateConnectionError(f"{where}: WebSocket handshake failed ({exc})") from exc
    except ConnectionRefusedError as exc:
        raise CandidateConnectionError(f"{where}: connection refused (is the bot server running?)") from exc
    except TimeoutError as exc:
        raise CandidateConnectionError(f"{where}: timed out opening the connection") from exc
    except OSError as exc:
        raise CandidateConnectionError(f"{where}: {exc.strerror or exc}") from exc


def _frames_pb2() -> ModuleType:
    """Import the generated protobuf module lazily (importing pipecat logs a banner)."""
    global _pb
    if _pb is None:
        import pipecat.frames.protobufs.frames_pb2 as frames_pb2

        _pb = frames_pb2
    return _pb


@dataclass(frozen=True)
class BotAudio:
    """Interviewer speech: 16-bit little-endian PCM."""

    pcm: bytes
    sample_rate: int
    num_channels: int

    @property
    def duration(self) -> float:
        """Seconds of audio in this chunk."""
        channels = max(1, self.num_channels)
        return len(self.pcm) / (2 * channels * self.sample_rate) if self.sample_rate else 0.0


@dataclass(frozen=True)
class BotMessage:
    """A transport message (JSON), e.g. an RTVI event; ``data`` is None if it was not JSON."""

    data: Any
    raw: str

    @property
    def rtvi_type(self) -> str | None:
        """The RTVI event type ("bot-started-speaking", ...) or None for other messages."""
        if isinstance(self.data, dict) and self.data.get("label") == RTVI_LABEL:
            kind = self.data.get("type")
            return kind if isinstance(kind, str) else None
        return None


@dataclass(frozen=True)
class BotText:
    """A TextFrame forwarded by the server."""

    text: str


@dataclass(frozen=True)
class BotTranscription:
    """A TranscriptionFrame forwarded by the server."""

    text: str
    user_id: str
    timestamp: str


@dataclass(frozen=True)
class BotInterruption:
    """The server asks the client to drop queued playback (the bot was interrupted)."""


@dataclass(frozen=True)
class Unknown:
    """Anything this client does not understand (text payloads, new frame kinds)."""

    description: str


ServerEvent = BotAudio | BotMessage | BotText | BotTranscription | BotInterruption | Unknown


def encode_audio(pcm: bytes, sample_rate: int, num_channels: int = 1) -> bytes:
    """A microphone chunk as the server's ``InputAudioRawFrame``."""
    frame = _frames_pb2().Frame()
    frame.audio.audio = pcm
    frame.audio.sample_rate = sample_rate
    frame.audio.num_channels = num_channels
    return frame.SerializeToString()


def encode_message(message: dict[str, Any]) -> bytes:
    """A transport message; the server turns it into an ``InputTransportMessageFrame``."""
    frame = _frames_pb2().Frame()
    frame.message.data = json.dumps(message)
    return frame.SerializeToString()


def rtvi_client_ready() -> dict[str, Any]:
    """The RTVI ``client-ready`` message a Pipecat client sends after connecting.

    Bots that wait for the client before greeting (``on_client_ready``) need it; bots
    without RTVI just ignore it.
    """
    return {
        "label": RTVI_LABEL,
        "type": "client-ready",
        "id": uuid.uuid4().hex[:8],
        "data": {
            "version": RTVI_CLIENT_VERSION,
            "about": {"library": "voice-interviewer-simulated-candidate", "library_version": "0.1.0"},
        },
    }


def decode(payload: bytes | str) -> ServerEvent:
    """Turn one WebSocket message from the server into a typed event."""
    if isinstance(payload, str):
        return Unknown(f"text payload ({len(payload)} chars); expected protobuf binary")
    pb = _frames_pb2()
    try:
        frame = pb.Frame.FromString(payload)
    except Exception as exc:  # protobuf raises DecodeError, a plain Exception subclass
        return Unknown(f"undecodable payload ({len(payload)} bytes): {exc}")
    kind = frame.WhichOneof("frame")
    if kind == "audio":
        a = frame.audio
        return BotAudio(pcm=a.audio, sample_rate=a.sample_rate, num_channels=a.num_channels or 1)
    if kind == "message":
        raw = frame.message.data
        try:
            data = json.loads(raw)
        except ValueError:
            data = None
        return BotMessage(data=data, raw=raw)
    if kind == "text":
        return BotText(frame.text.text)
    if kind == "transcription":
        t = frame.transcription
        return BotTranscription(text=t.text, user_id=t.user_id, timestamp=t.timestamp)
    if kind == "interruption":
        return BotInterruption()
    return Unknown(f"frame kind {kind!r}")
