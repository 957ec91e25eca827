"""WebSocket transport (offline testing, web clients): Pipecat protobuf frames, 16 kHz in."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from fastapi import WebSocket
from pipecat.frames.frames import OutputTransportMessageUrgentFrame
from pipecat.serializers.base_serializer import FrameSerializer
from pipecat.transports.websocket.fastapi import FastAPIWebsocketParams, FastAPIWebsocketTransport

from transports.client_messages import ClientMessagePolicy
from transports.close_watch import CloseWatch
from transports.common import TransportHandle, TransportKind
from transports.guarded_serializer import GuardedSerializer
from transports.input_limits import InputLimits

INPUT_SAMPLE_RATE = 16000
OUTPUT_SAMPLE_RATE = 24000


def build_fastapi_transport(
    websocket: WebSocket,
    *,
    kind: TransportKind,
    serializer: FrameSerializer,
    input_sample_rate: int,
    output_sample_rate: int,
    description: str,
) -> TransportHandle:
    """One transport per accepted socket; the serializer must be set or every message is dropped."""
    params = FastAPIWebsocketParams(
        audio_in_enabled=True,
        audio_out_enabled=True,
        audio_in_sample_rate=input_sample_rate,
        audio_out_sample_rate=output_sample_rate,
        add_wav_header=False,
        serializer=serializer,
    )
    return TransportHandle(
        kind=kind,
        transport=FastAPIWebsocketTransport(websocket=websocket, params=params),
        input_sample_rate=input_sample_rate,
        output_sample_rate=output_sample_rate,
        joined_event="on_client_connected",
        left_event="on_client_disconnected",
        description=description,
    )


def guarded_serializer(websocket: WebSocket, limits: InputLimits) -> GuardedSerializer:
    """The serializer for one candidate socket, applying `limits`."""
    peer = websocket.client.host if websocket.client else "?"
    return GuardedSerializer(
        sample_rate=INPUT_SAMPLE_RATE,
        peer=peer,
        policy=ClientMessagePolicy(allowed=limits.rtvi_messages, max_bytes=limits.client_message_max_bytes, peer=peer),
        audio_realtime_factor=limits.audio_realtime_factor,
        audio_burst_secs=limits.audio_burst_secs,
    )


def create_websocket_transport(
    websocket: WebSocket, limits: InputLimits | None = None, serializer: GuardedSerializer | None = None
) -> TransportHandle:
    """`limits`: what a candidate may send (default: the safe policy of `InputLimits`)."""
    serializer = serializer or guarded_serializer(websocket, limits or InputLimits())
    peer = websocket.client.host if websocket.client else "?"
    close_watch = CloseWatch(websocket)
    handle = build_fastapi_transport(
        websocket,
        kind="websocket",
        serializer=serializer,
        input_sample_rate=INPUT_SAMPLE_RATE,
        output_sample_rate=OUTPUT_SAMPLE_RATE,
        description=f"websocket client {peer}",
    )
    assert isinstance(handle.transport, FastAPIWebsocketTransport)
    output = handle.transport.output()

    async def reply(message: dict[str, Any]) -> None:
        """RTVI's answer to a refused message, sent like any other transport message."""
        await output.send_message(OutputTransportMessageUrgentFrame(message=message))

    serializer.reply = reply
    return replace(handle, left_on_purpose=close_watch.left_on_purpose)
