"""The Twilio Media Streams simulator speaks the documented protocol and plays audio on a phone's clock."""

from __future__ import annotations

import asyncio
import base64
import json
import time

from websockets.asyncio.server import serve

from scripts.twilio_media_sim import SimulatedPhoneCall, StreamInstruction, parse_stream_twiml, tunnel
from transports.twilio_server import stream_twiml

SILENCE_ULAW = base64.b64encode(b"\xff" * 800).decode()  # 100 ms


class Server:
    """Plays the bot: 0.5 s of audio then a mark, then audio + mark + clear; records what the phone sent."""

    def __init__(self) -> None:
        self.received: list[dict] = []
        self.echo_delays: dict[str, float] = {}

    async def handler(self, ws) -> None:
        async def read() -> None:
            async for raw in ws:
                message = json.loads(raw)
                self.received.append(message)
                if message["event"] == "mark":
                    self.echo_delays[message["mark"]["name"]] = time.monotonic() - self.sent_at[message["mark"]["name"]]

        reader = asyncio.create_task(read())
        self.sent_at: dict[str, float] = {}
        await asyncio.sleep(0.2)
        for _ in range(5):
            await ws.send(json.dumps({"event": "media", "streamSid": "MZ1", "media": {"payload": SILENCE_ULAW}}))
        self.sent_at["played"] = time.monotonic()
        await ws.send(json.dumps({"event": "mark", "streamSid": "MZ1", "mark": {"name": "played"}}))
        await asyncio.sleep(0.8)
        for _ in range(20):
            await ws.send(json.dumps({"event": "media", "streamSid": "MZ1", "media": {"payload": SILENCE_ULAW}}))
        self.sent_at["cleared"] = time.monotonic()
        await ws.send(json.dumps({"event": "mark", "streamSid": "MZ1", "mark": {"name": "cleared"}}))
        await ws.send(json.dumps({"event": "clear", "streamSid": "MZ1"}))
        await asyncio.sleep(0.3)
        reader.cancel()
        await ws.close()


async def test_protocol_messages_media_cadence_and_mark_echo_timing() -> None:
    bot = Server()
    async with serve(bot.handler, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        call = SimulatedPhoneCall(
            f"ws://127.0.0.1:{port}/twilio/media/t",
            call_sid="CA1",
            account_sid="AC1",
            custom_parameters={"interview": "x"},
            script=[],
        )
        report = await call.run(timeout=10)

    first, second, *rest = bot.received
    assert first == {"event": "connected", "protocol": "Call", "version": "1.0.0"}
    start = second["start"]
    assert second["event"] == "start" and second["streamSid"] == start["streamSid"] == call.stream_sid
    assert (start["callSid"], start["accountSid"], start["tracks"], start["customParameters"]) == (
        "CA1",
        "AC1",
        ["inbound"],
        {"interview": "x"},
    )
    assert start["mediaFormat"] == {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}
    media = [m for m in rest if m["event"] == "media"]
    assert len(media) >= 40  # one every 20 ms for ~1.5 s
    sequence = [int(m["sequenceNumber"]) for m in media]
    assert sequence == sorted(sequence) and len(set(sequence)) == len(sequence)
    assert [int(m["media"]["chunk"]) for m in media] == list(range(1, len(media) + 1))
    assert [int(m["media"]["timestamp"]) for m in media] == [20 * i for i in range(len(media))]
    assert all(len(base64.b64decode(m["media"]["payload"])) == 160 for m in media)
    # A mark comes back only once the 0.5 s before it has played; after `clear`, at once.
    assert 0.45 <= bot.echo_delays["played"] < 0.8, bot.echo_delays
    assert bot.echo_delays["cleared"] < 0.2, bot.echo_delays
    assert report.clears == 1 and report.marks_echoed == 2


def test_twiml_round_trip_and_tunnel() -> None:
    twiml = stream_twiml("wss://h.example/twilio/media/abc", {"interview": "a&b"})
    assert parse_stream_twiml(twiml) == StreamInstruction("wss://h.example/twilio/media/abc", {"interview": "a&b"})
    assert (
        tunnel("wss://h.example/twilio/media/abc?x=1", "http://127.0.0.1:9") == "ws://127.0.0.1:9/twilio/media/abc?x=1"
    )
