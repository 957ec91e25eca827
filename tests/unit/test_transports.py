"""The transport selector builds each transport with the parameters its kind needs."""

from __future__ import annotations

from types import SimpleNamespace

import jwt
import pytest
from pipecat.serializers.protobuf import ProtobufFrameSerializer
from pipecat.serializers.twilio import TwilioFrameSerializer

from transports import TransportConfigError, create_transport
from transports.livekit import mint_agent_token


class FakeSocket(SimpleNamespace):
    """Just enough of a Starlette WebSocket for transport construction (no I/O happens)."""

    def __init__(self) -> None:
        super().__init__(headers={}, client=SimpleNamespace(host="127.0.0.1", port=5555), query_params={})

    async def receive(self) -> dict:
        return {"type": "websocket.disconnect", "code": 1000}


def test_websocket_transport_speaks_protobuf_at_16k_in_24k_out() -> None:
    handle = create_transport("websocket", websocket=FakeSocket())
    params = handle.transport._params
    assert isinstance(params.serializer, ProtobufFrameSerializer)
    assert (params.audio_in_enabled, params.audio_out_enabled) == (True, True)
    assert (handle.input_sample_rate, handle.output_sample_rate) == (16000, 24000)
    assert (params.audio_in_sample_rate, params.audio_out_sample_rate) == (16000, 24000)
    assert handle.joined_event == "on_client_connected" and handle.left_event == "on_client_disconnected"


def test_twilio_transport_is_8k_and_hangs_up_only_with_credentials() -> None:
    handle = create_transport(
        "twilio", websocket=FakeSocket(), stream_sid="MZ1", call_sid="CA1", account_sid=None, auth_token=None
    )
    serializer = handle.transport._params.serializer
    assert isinstance(serializer, TwilioFrameSerializer)
    assert (handle.input_sample_rate, handle.output_sample_rate) == (8000, 8000)
    assert serializer._params.auto_hang_up is False

    with_creds = create_transport(
        "twilio", websocket=FakeSocket(), stream_sid="MZ1", call_sid="CA1", account_sid="AC1", auth_token="tok"
    )
    assert with_creds.transport._params.serializer._params.auto_hang_up is True


def test_daily_and_livekit_transports_enable_audio_both_ways() -> None:
    daily = create_transport("daily", room_url="https://example.daily.co/room", token="t")
    livekit = create_transport("livekit", url="wss://lk.example", token="t", room_name="room-1")
    for handle in (daily, livekit):
        params = handle.transport._params
        assert params.audio_in_enabled and params.audio_out_enabled
        assert params.audio_in_sample_rate == 16000
    assert daily.joined_event == livekit.joined_event == "on_candidate_joined"
    assert daily.left_event == livekit.left_event == "on_candidate_left"


def test_livekit_agent_token_carries_identity_room_and_grants() -> None:
    secret = "s" * 32
    token = mint_agent_token("APIkey", secret, "interview-42", identity="bot-1")
    claims = jwt.decode(token, secret, algorithms=["HS256"], options={"verify_aud": False})
    assert claims["iss"] == "APIkey" and claims["sub"] == "bot-1"
    video = claims["video"]
    assert video["room"] == "interview-42" and video["roomJoin"] is True
    assert video["canPublish"] is True and video["canSubscribe"] is True


def test_unknown_kind_and_missing_arguments_fail_clearly() -> None:
    with pytest.raises(TransportConfigError, match="unknown transport 'carrier-pigeon'"):
        create_transport("carrier-pigeon")  # type: ignore[arg-type]
    with pytest.raises(TransportConfigError, match="transport 'daily'"):
        create_transport("daily")


def test_only_transports_package_imports_transport_classes() -> None:
    """Transport differences stop at transports/ (the abstract base type may be named elsewhere)."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    offenders = []
    for path in root.rglob("*.py"):
        relative = path.relative_to(root)
        if relative.parts[0] in ("transports", ".venv", "tests") or "site-packages" in relative.parts:
            continue
        text = path.read_text(encoding="utf-8")
        concrete = text.replace("pipecat.transports.base_transport", "")
        if "pipecat.transports." in concrete:
            offenders.append(str(relative))
    assert offenders == []


@pytest.mark.parametrize(("code", "on_purpose"), [(1000, True), (1001, False), (1005, False), (1006, False)])
async def test_the_websocket_handle_tells_a_chosen_close_from_a_drop(code: int, on_purpose: bool) -> None:
    socket = FakeSocket()

    async def receive() -> dict:
        return {"type": "websocket.disconnect", "code": code}

    socket.receive = receive
    handle = create_transport("websocket", websocket=socket)
    assert handle.left_on_purpose()  # still connected: nothing dropped
    await socket.receive()  # what Pipecat's input reads when the socket closes
    assert handle.left_on_purpose() is on_purpose
