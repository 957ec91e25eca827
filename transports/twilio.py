"""Twilio Media Streams transport (phone interviews): µ-law 8 kHz both ways.

One call = one accepted media WebSocket = one transport. The serializer is
Pipecat's, hardened and taught about playback marks (transports/twilio_serializer.py);
the mark inserter and the end-after-goodbye hold (transports/twilio_marks.py) ride
along in `TransportHandle.before_output` / `after_input`, so the pipeline puts them
right before the output and right after the input.
The call-handling server (webhook, signatures, tokens) is transports/twilio_server.py.
"""

from __future__ import annotations

from dataclasses import replace

from fastapi import WebSocket

from transports.common import TransportHandle
from transports.twilio_marks import EndAfterPlayback, PlaybackMarkInserter, PlaybackMarks
from transports.twilio_serializer import InterviewTwilioSerializer
from transports.websocket import build_fastapi_transport

TELEPHONY_SAMPLE_RATE = 8000


def create_twilio_transport(
    websocket: WebSocket,
    *,
    stream_sid: str,
    call_sid: str | None,
    account_sid: str | None,
    auth_token: str | None,
    api_base_url: str | None = None,
    marks: PlaybackMarks | None = None,
    goodbye_timeout_secs: float = 30.0,
) -> TransportHandle:
    """Hang-up through Twilio's REST API (at `api_base_url`) only when credentials exist."""
    marks = marks or PlaybackMarks(stream_sid, call_sid=call_sid)
    serializer = InterviewTwilioSerializer(
        stream_sid=stream_sid,
        call_sid=call_sid,
        account_sid=account_sid,
        auth_token=auth_token,
        base_url=api_base_url,
        marks=marks,
    )
    handle = build_fastapi_transport(
        websocket,
        kind="twilio",
        serializer=serializer,
        input_sample_rate=TELEPHONY_SAMPLE_RATE,
        output_sample_rate=TELEPHONY_SAMPLE_RATE,
        description=f"twilio call {call_sid or '?'}",
    )
    return replace(
        handle,
        after_input=(EndAfterPlayback(marks, timeout_secs=goodbye_timeout_secs),),
        before_output=(PlaybackMarkInserter(marks),),
        playback=marks,
        rtvi=False,
    )
