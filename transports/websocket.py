"""WebSocket transport (offline testing, web clients): Pipecat protobuf frames, 16 kHz in."""

from __future__ import annotations

from fastapi import WebSocket
from pipecat.serializers.protobuf import ProtobufFrameSerializer
from pipecat.transports.websocket.fastapi import FastAPIWebsocketParams, FastAPIWebsocketTransport

from transports.common import TransportHandle

INPUT_SAMPLE_RATE = 16000
OUTPUT_SAMPLE_RATE = 24000


def create_websocket_transport(websocket: WebSocket) -> TransportHandle:
    """One transport per accepted connection; the serializer must be set or every message is dropped."""
    params = FastAPIWebsocketParams(
        audio_in_enabled=True,
        audio_out_enabled=True,
        audio_in_sample_rate=INPUT_SAMPLE_RATE,
        audio_out_sample_rate=OUTPUT_SAMPLE_RATE,
        add_wav_header=False,
        serializer=ProtobufFrameSerializer(),
    )
    return TransportHandle(
        kind="websocket",
        transport=FastAPIWebsocketTransport(websocket=websocket, params=params),
        input_sample_rate=INPUT_SAMPLE_RATE,
        output_sample_rate=OUTPUT_SAMPLE_RATE,
        joined_event="on_client_connected",
        left_event="on_client_disconnected",
        description=f"websocket client {websocket.client.host if websocket.client else '?'}",
    )
