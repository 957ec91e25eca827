"""Inbound Twilio messages: real ones become frames or mark/stop bookkeeping; nothing else ever raises."""

from __future__ import annotations

import base64
import json
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pipecat.frames.frames import InputAudioRawFrame, InputDTMFFrame

from scripts.twilio_media_sim import dtmf_message, mark_message, media_message, stop_message
from tests.fakes.twilio_rest import FakeTwilioRest
from transports.twilio_marks import PlaybackMarks
from transports.twilio_serializer import InterviewTwilioSerializer


def serializer(**overrides) -> InterviewTwilioSerializer:
    args = dict(
        stream_sid="MZ1", call_sid="CA1", account_sid=None, auth_token=None, base_url=None, marks=PlaybackMarks("MZ1")
    )
    args.update(overrides)
    return InterviewTwilioSerializer(**args)


async def ready(s: InterviewTwilioSerializer) -> InterviewTwilioSerializer:
    await s.setup(SimpleNamespace(audio_in_sample_rate=8000))  # type: ignore[arg-type]  # all setup() reads
    return s


async def test_media_dtmf_mark_and_stop_are_understood() -> None:
    s = await ready(serializer())
    frame = await s.deserialize(json.dumps(media_message("MZ1", 2, 1, 0, b"\xff" * 160)))
    assert isinstance(frame, InputAudioRawFrame) and frame.sample_rate == 8000 and len(frame.audio) == 320
    key = await s.deserialize(json.dumps(dtmf_message("MZ1", 3, "*")))
    assert isinstance(key, InputDTMFFrame) and key.button.value == "*"
    s.marks.new_mark("start")
    assert await s.deserialize(json.dumps(mark_message("MZ1", 4, "start-1"))) is None
    assert s.marks.echoed == 1
    assert await s.deserialize(json.dumps(stop_message("MZ1", 5, call_sid="CA1", account_sid="AC1"))) is None
    assert s.marks.stopped


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ("not json at all", "non-JSON message"),
        (b"\x00\xff\xfe", "non-JSON message"),
        ("[1, 2, 3]", "message is not a JSON object"),
        ('{"event": "party"}', "unknown event"),
        ('{"event": "media", "media": "nope"}', "malformed media"),
        ('{"event": "media", "media": {"payload": "***not base64***"}}', "media payload is not base64"),
        ('{"event": "media", "media": {"payload": "abc"}}', "media payload is not base64"),
        ('{"event": "dtmf", "dtmf": {"digit": 5}}', "malformed dtmf"),
        ('{"event": "mark", "mark": ["x"]}', "malformed mark"),
        (json.dumps({"event": "media", "media": {"payload": "A" * 70_000}}), "oversize message"),
        ('{"event": "start", "start": {}}', "repeated handshake message"),
    ],
)
async def test_garbage_is_dropped_and_counted(data, reason: str) -> None:
    s = await ready(serializer())
    assert await s.deserialize(data) is None
    assert s.dropped[reason] == 1


async def test_the_end_of_an_interview_hangs_up_through_twilios_rest_api() -> None:
    rest = await FakeTwilioRest("AC1", "t").start()
    try:
        s = serializer(account_sid="AC1", auth_token="t", base_url=rest.base_url)
        await s._hang_up_call()
        [request] = rest.hang_ups()
        assert request.path == "/2010-04-01/Accounts/AC1/Calls/CA1.json"
        assert request.form == {"Status": "completed"} and request.auth == ("AC1", "t")
    finally:
        await rest.stop()


async def test_no_hang_up_request_after_the_caller_hung_up() -> None:
    rest = await FakeTwilioRest("AC1", "t").start()
    try:
        s = serializer(account_sid="AC1", auth_token="t", base_url=rest.base_url)
        s.marks.stream_stopped()
        await s._hang_up_call()
        assert rest.requests == [], "a call that is over gets no hang-up request"
    finally:
        await rest.stop()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
events = st.sampled_from(["media", "dtmf", "mark", "stop", "start", "connected", "clear", "other"])
twilio_like = st.builds(
    lambda event, body, payload: {
        "event": event,
        event: body if payload is None else {"payload": payload, **(body if isinstance(body, dict) else {})},
    },
    events,
    json_values,
    st.none() | st.text(max_size=30) | st.binary(max_size=40).map(lambda b: base64.b64encode(b).decode()),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.one_of(st.text(max_size=200), st.binary(max_size=200), json_values.map(json.dumps), twilio_like.map(json.dumps))
)
async def test_any_inbound_message_is_a_frame_or_nothing_never_an_exception(data) -> None:
    s = await ready(serializer())
    frame = await s.deserialize(data)
    assert frame is None or isinstance(frame, (InputAudioRawFrame, InputDTMFFrame))


def test_twilio_transport_carries_marks_serializer_and_its_pipeline_processors() -> None:
    from transports.twilio import create_twilio_transport
    from transports.twilio_marks import EndAfterPlayback, PlaybackMarkInserter

    socket = SimpleNamespace(headers={}, client=SimpleNamespace(host="127.0.0.1", port=1), query_params={})
    marks = PlaybackMarks("MZ1", call_sid="CA1")
    handle = create_twilio_transport(
        socket,
        stream_sid="MZ1",
        call_sid="CA1",
        account_sid="AC1",
        auth_token="t",  # type: ignore[arg-type]
        api_base_url="http://127.0.0.1:9999",
        marks=marks,
    )
    s = handle.transport._params.serializer
    assert isinstance(s, InterviewTwilioSerializer) and s.marks is marks
    assert s._params.auto_hang_up and s._base_url == "http://127.0.0.1:9999"
    assert [type(p) for p in handle.after_input] == [EndAfterPlayback]
    assert [type(p) for p in handle.before_output] == [PlaybackMarkInserter]
    assert (handle.input_sample_rate, handle.output_sample_rate) == (8000, 8000)
    assert handle.rtvi is False  # a phone speaks no RTVI: the session runs without its processor and observer
