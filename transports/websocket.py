"""WebSocket transport (offline testing, web clients): Pipecat protobuf frames, 16 kHz in."""

from __future__ import annotations

from fastapi import WebSocket
from pipecat.serializers.base_serializer import FrameSerializer
from pipecat.transports.websocket.fastapi import FastAPIWebsocketParams, FastAPIWebsocketTransport

from transports.common import TransportHandle, TransportKind
from transports.guarded_serializer import GuardedSerializer

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


def create_websocket_transport(websocket: WebSocket) -> TransportHandle:
    peer = websocket.client.host if websocket.client else "?"
    return build_fastapi_transport(
        websocket,
        kind="websocket",
        serializer=GuardedSerializer(sample_rate=INPUT_SAMPLE_RATE, peer=peer),
        input_sample_rate=INPUT_SAMPLE_RATE,
        output_sample_rate=OUTPUT_SAMPLE_RATE,
        description=f"websocket client {peer}",
    )
