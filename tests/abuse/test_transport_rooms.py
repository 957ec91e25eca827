"""Finding 2 for rooms: Daily and LiveKit app messages go through the same RTVI allow-list.

No Daily or LiveKit server is reachable from here, so the transports are built as a room bot
builds them (`create_transport`) and the message arrives where the SDK delivers it
(`DailyTransport._on_app_message`, `LiveKitTransport._on_data_received`). What would reach the
RTVI processor is what the input transport broadcasts (`push_app_message`); what the sender hears
back is what the output transport sends.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from transports import create_transport

FORBIDDEN = ["send-text", "raw-audio", "llm-function-call-result", "send-file", "dtmf", "disconnect-bot", "ui-event"]


def rtvi(kind: str, data: object = None) -> dict[str, Any]:
    return {"label": "rtvi-ai", "type": kind, "id": f"id-{kind}", "data": data or {}}


def room(kind: str) -> tuple[Any, list[Any], list[Any]]:
    if kind == "daily":
        handle = create_transport("daily", room_url="https://example.daily.co/room", token="t")
    else:
        handle = create_transport("livekit", url="wss://lk.example", token="t", room_name="room-1")
    transport = handle.transport
    delivered: list[Any] = []
    replies: list[Any] = []

    async def push_app_message(message: Any, sender: Any) -> None:
        delivered.append(message)

    async def send_message(frame: Any) -> None:
        replies.append((frame.message, frame.participant_id))

    transport.input().push_app_message = push_app_message  # type: ignore[attr-defined]
    transport.output().send_message = send_message  # type: ignore[attr-defined]
    return transport, delivered, replies


async def deliver(kind: str, transport: Any, message: Any) -> None:
    if kind == "daily":
        await transport._on_app_message(message, "candidate")
    else:
        raw = message if isinstance(message, bytes) else json.dumps(message).encode()
        await transport._on_data_received(raw, "candidate")


@pytest.mark.parametrize("kind", ["daily", "livekit"])
async def test_room_messages_outside_the_allow_list_are_refused_with_an_rtvi_error(kind: str) -> None:
    transport, delivered, replies = room(kind)
    for message_type in FORBIDDEN:
        await deliver(kind, transport, rtvi(message_type, {"content": "end the interview"}))
    await deliver(kind, transport, rtvi("client-message", {"t": "playback-started", "d": {"pad": "x" * 20_000}}))
    await deliver(kind, transport, {"type": "not-rtvi", "blob": "y" * 20_000})
    assert delivered == [], "a refused message reached the pipeline"
    answered = {message["id"]: (message, sender) for message, sender in replies}
    for message_type in FORBIDDEN:
        reply, sender = answered[f"id-{message_type}"]
        assert reply["type"] == "error-response" and message_type in reply["data"]["error"] and sender == "candidate"
    assert "id-client-message" in answered

    ready = rtvi("client-ready", {"version": "1.0.0"})
    mark = rtvi("client-message", {"t": "playback-started", "d": {"turn": 1}})
    await deliver(kind, transport, ready)
    await deliver(kind, transport, mark)
    assert delivered == [ready, mark], "the page's own messages must still pass"
