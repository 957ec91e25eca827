"""Property-based fuzz of the two parsers a stranger can reach: the /ws serializer and Twilio's.

Whatever arrives (arbitrary bytes or text, well-formed protobuf frames with any field values,
JSON of any shape with Twilio's event names), `deserialize` must never raise (an exception ends
the transport's receive loop, i.e. the session) and must return None or a frame the pipeline can
take: audio at the session's rate, mono, whole samples, bounded in size; an RTVI message from the
allow-list, bounded in size; a keypad digit. Bounded examples, so this runs in seconds.
"""

from __future__ import annotations

import asyncio
import base64
import json
from types import SimpleNamespace
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pipecat.frames.frames import Frame, InputAudioRawFrame, InputDTMFFrame, InputTransportMessageFrame

from scripts.candidate_protocol import encode_audio, encode_message
from transports.guarded_serializer import MAX_MESSAGE_BYTES, GuardedSerializer
from transports.input_limits import CLIENT_MESSAGE_MAX_BYTES, DEFAULT_RTVI_MESSAGES
from transports.twilio_marks import PlaybackMarks
from transports.twilio_serializer import InterviewTwilioSerializer

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
raw = st.binary(max_size=2048) | st.text(max_size=512)


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def assert_ws_frame_is_well_formed(frame: Frame | None) -> None:
    if frame is None:
        return
    if isinstance(frame, InputAudioRawFrame):
        assert frame.sample_rate == 16000 and frame.num_channels == 1
        assert 0 < len(frame.audio) <= MAX_MESSAGE_BYTES and len(frame.audio) % 2 == 0
        return
    assert isinstance(frame, InputTransportMessageFrame), type(frame)
    message = frame.message
    assert isinstance(message, dict) and message.get("label") == "rtvi-ai"
    assert message.get("type") in DEFAULT_RTVI_MESSAGES and isinstance(message.get("id"), str)
    assert len(json.dumps(message, default=str)) <= CLIENT_MESSAGE_MAX_BYTES + 64


@FUZZ
@given(raw)
def test_ws_serializer_survives_arbitrary_bytes_and_text(data: bytes | str) -> None:
    assert_ws_frame_is_well_formed(run(GuardedSerializer(sample_rate=16000).deserialize(data)))


@FUZZ
@given(st.binary(max_size=4096), st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1))  # uint32 on the wire
def test_ws_serializer_takes_only_session_rate_mono_audio(pcm: bytes, rate: int, channels: int) -> None:
    frame = run(GuardedSerializer(sample_rate=16000).deserialize(encode_audio(pcm, rate, channels)))
    assert_ws_frame_is_well_formed(frame)


@FUZZ
@given(
    st.fixed_dictionaries(
        {},
        optional={
            "label": st.sampled_from(["rtvi-ai", "rtvi", ""]) | st.text(max_size=8),
            "type": st.sampled_from(
                ["client-ready", "client-message", "send-text", "raw-audio", "disconnect-bot", "dtmf"]
            )
            | json_values,
            "id": st.text(max_size=300) | json_values,
            "data": json_values,
        },
    )
    | json_values
)
def test_ws_serializer_lets_through_only_allowed_rtvi_messages(message: Any) -> None:
    try:
        encoded = encode_message(message)
    except (TypeError, ValueError):  # not JSON-encodable: cannot come off the wire either
        return
    assert_ws_frame_is_well_formed(run(GuardedSerializer(sample_rate=16000).deserialize(encoded)))


async def _twilio(data: str | bytes) -> Frame | None:
    serializer = InterviewTwilioSerializer(
        stream_sid="MZ1", call_sid="CA1", account_sid=None, auth_token=None, base_url=None, marks=PlaybackMarks("MZ1")
    )
    await serializer.setup(SimpleNamespace(audio_in_sample_rate=8000))  # type: ignore[arg-type]  # all it reads
    return await serializer.deserialize(data)


def assert_twilio_frame_is_well_formed(frame: Frame | None) -> None:
    if frame is None:
        return
    if isinstance(frame, InputAudioRawFrame):
        assert frame.sample_rate == 8000 and frame.num_channels == 1 and len(frame.audio) % 2 == 0
        assert len(frame.audio) <= 4 * 64 * 1024  # µ-law doubles in PCM; the message cap bounds it
        return
    assert isinstance(frame, InputDTMFFrame), type(frame)


@FUZZ
@given(raw)
def test_twilio_serializer_survives_arbitrary_bytes_and_text(data: bytes | str) -> None:
    assert_twilio_frame_is_well_formed(run(_twilio(data)))


@FUZZ
@given(
    st.sampled_from(["media", "dtmf", "mark", "stop", "start", "connected", "clear", ""]) | json_values,
    st.fixed_dictionaries(
        {},
        optional={
            "payload": st.binary(max_size=800).map(lambda b: base64.b64encode(b).decode())
            | st.text(max_size=40)
            | json_values,
            "track": st.sampled_from(["inbound", "outbound", "inbound_track"]) | json_values,
            "digit": st.text(max_size=3) | json_values,
            "name": st.text(max_size=20) | json_values,
        },
    )
    | json_values,
)
def test_twilio_serializer_survives_any_event_shape(event: Any, body: Any) -> None:
    message = {"event": event, "streamSid": "MZ1", "media": body, "dtmf": body, "mark": body}
    assert_twilio_frame_is_well_formed(run(_twilio(json.dumps(message))))
