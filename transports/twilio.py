"""Twilio Media Streams transport (phone interviews): µ-law 8 kHz both ways.

Construction only; the call-handling server (webhook, signatures, marks) is
built on top of this by the phone-interview work.
"""

from __future__ import annotations

from fastapi import WebSocket
from pipecat.serializers.twilio import TwilioFrameSerializer

from transports.common import TransportHandle
from transports.websocket import build_fastapi_transport

TELEPHONY_SAMPLE_RATE = 8000


def create_twilio_transport(
    websocket: WebSocket,
    *,
    stream_sid: str,
    call_sid: str | None,
    account_sid: str | None,
    auth_token: str | None,
) -> TransportHandle:
    """Hang-up through Twilio's REST API only when credentials exist (the serializer insists)."""
    can_hang_up = bool(call_sid and account_sid and auth_token)
    serializer = TwilioFrameSerializer(
        stream_sid=stream_sid,
        call_sid=call_sid,
        account_sid=account_sid,
        auth_token=auth_token,
        params=TwilioFrameSerializer.InputParams(auto_hang_up=can_hang_up),
    )
    return build_fastapi_transport(
        websocket,
        kind="twilio",
        serializer=serializer,
        input_sample_rate=TELEPHONY_SAMPLE_RATE,
        output_sample_rate=TELEPHONY_SAMPLE_RATE,
        description=f"twilio call {call_sid or '?'}",
    )
