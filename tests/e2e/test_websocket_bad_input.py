"""A candidate socket sending the whole bad-input corpus: its session carries on, others are untouched (item 11).

A real bot server (offline engines). Client A joins and sends every corpus message, then a
flood of one-sample frames; client B holds a normal session at the same time. A's socket must
stay open (Pipecat's receive loop used to end on the first bad message, ending the session as
if the candidate had left), B must get its greeting, the server must still answer, and an
over-limit message must close only the socket that sent it.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import aiohttp
import pytest
import websockets

from scripts.candidate_protocol import BotAudio, decode, encode_audio
from tests.bad_inputs import TINY_FRAME_FLOOD, websocket_messages

from .conftest import one_question_interview, read_jsonl, write_yaml

pytestmark = pytest.mark.e2e


class Listener:
    """Reads a socket all the time (an unread socket stops answering pings) and counts the bot's audio."""

    def __init__(self, ws) -> None:  # type: ignore[no-untyped-def]
        self.audio = 0
        self._heard = asyncio.Event()
        self.task = asyncio.create_task(self._read(ws))

    async def _read(self, ws) -> None:  # type: ignore[no-untyped-def]
        try:
            async for message in ws:
                if isinstance(message, bytes) and isinstance(decode(message), BotAudio):
                    self.audio += 1
                    self._heard.set()
        except websockets.ConnectionClosed:
            pass

    async def wait_audio(self, more_than: int, seconds: float) -> bool:
        """True once more than `more_than` audio messages arrived, False after `seconds`."""
        deadline = time.monotonic() + seconds
        while self.audio <= more_than:
            self._heard.clear()
            try:
                await asyncio.wait_for(self._heard.wait(), max(0.0, deadline - time.monotonic()))
            except TimeoutError:
                return self.audio > more_than
        return True


async def test_bad_input_drops_messages_not_sessions(tmp_path: Path, start_bot) -> None:  # type: ignore[no-untyped-def]
    config = write_yaml(tmp_path / "interview.yaml", one_question_interview("bad_input"))
    bot = start_bot("--config", str(config), once=False)
    url = bot.wait_ready()
    async with websockets.connect(url) as a, websockets.connect(url) as b:
        heard_a, heard_b = Listener(a), Listener(b)
        assert await heard_b.wait_audio(0, 30), "B never heard its greeting"
        assert await heard_a.wait_audio(0, 30), "A never heard its greeting"
        for _name, message in websocket_messages():
            await a.send(message)
        tiny = encode_audio(b"\x00\x00", 16000)
        for _ in range(TINY_FRAME_FLOOD):
            await a.send(tiny)
        await a.send(encode_audio(b"\x00\x01" * 320, 16000))
        await asyncio.sleep(2.0)
        await asyncio.wait_for(await a.ping(), 5)  # A's socket is still open: its session carries on
        assert not heard_a.task.done(), "the server closed A's socket"

        async with websockets.connect(url, max_size=None) as c:
            await c.send(b"\x00" * (2 * 1024 * 1024))
            with pytest.raises(websockets.ConnectionClosed) as closed:
                while True:
                    await asyncio.wait_for(c.recv(), 10)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009

        await asyncio.wait_for(await a.ping(), 5)
        await asyncio.wait_for(await b.ping(), 5)
        http = url.replace("ws://", "http://").rsplit("/ws", 1)[0]
        async with aiohttp.ClientSession() as session, session.get(f"{http}/health") as health:
            assert health.status == 200
        for listener in (heard_a, heard_b):
            listener.task.cancel()
    records = sorted((tmp_path / "sessions").iterdir())
    assert len(records) >= 2
    output = "\n".join(bot.output)
    assert "dropped a message" in output
    for record in records:
        kinds = [e["type"] for e in read_jsonl(record / "events.jsonl")]
        assert "error" not in kinds, (record.name, kinds)
