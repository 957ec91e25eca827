"""The WebSocket's serializer drops every corpus message with a reason and passes real input (item 11)."""

from __future__ import annotations

import pytest
from pipecat.frames.frames import InputAudioRawFrame, InputTransportMessageFrame

from scripts.candidate_protocol import encode_audio, encode_message, rtvi_client_ready
from tests.bad_inputs import websocket_messages
from transports.guarded_serializer import GuardedSerializer

CASES = websocket_messages()
TWENTY_MS = b"\x00\x01" * 320


@pytest.mark.parametrize(("name", "message"), CASES, ids=[n for n, _ in CASES])
async def test_each_bad_message_is_dropped_not_raised(name: str, message: bytes | str) -> None:
    serializer = GuardedSerializer(sample_rate=16000, peer="test")
    assert await serializer.deserialize(message) is None
    assert sum(serializer.dropped.values()) == 1
    frame = await serializer.deserialize(encode_audio(TWENTY_MS, 16000))
    assert isinstance(frame, InputAudioRawFrame), "the next good message still gets through"


async def test_real_input_passes() -> None:
    serializer = GuardedSerializer(sample_rate=16000)
    audio = await serializer.deserialize(encode_audio(TWENTY_MS, 16000))
    assert isinstance(audio, InputAudioRawFrame) and audio.sample_rate == 16000 and audio.audio == TWENTY_MS
    assert isinstance(await serializer.deserialize(encode_message(rtvi_client_ready())), InputTransportMessageFrame)
    assert not serializer.dropped


async def test_a_flood_is_cut_at_the_rate_limit_and_recovers_next_second() -> None:
    now = [0.0]
    serializer = GuardedSerializer(sample_rate=16000, max_messages_per_second=50, clock=lambda: now[0])
    tiny = encode_audio(b"\x00\x00", 16000)
    passed = [await serializer.deserialize(tiny) for _ in range(200)]
    assert sum(f is not None for f in passed) == 50 and serializer.dropped["more than 50 messages a second"] == 150
    now[0] += 1.0
    assert await serializer.deserialize(tiny) is not None
