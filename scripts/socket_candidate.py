"""A candidate on one raw WebSocket: real-time microphone, speech on demand, and the bot's turns counted.

For tests and benchmarks of what happens around the connection itself (a drop, a reconnect
with the session's resume token); scripts/candidate_client.py is the full simulated candidate.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from websockets.exceptions import ConnectionClosed

from scripts.candidate_protocol import (
    BotMessage,
    ServerEvent,
    decode,
    encode_audio,
    encode_message,
    open_connection,
    rtvi_client_ready,
)

RATE, CHUNK = 16000, 320  # 20 ms of 16 kHz mono


class Candidate:
    """One socket: silence in real time unless speaking; remembers the resume token and bot turns."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.resume_token: str | None = None
        self.bot_turns_done = 0
        self.bot_speaking = False
        self._speech: list[bytes] = []
        self._tasks: list[asyncio.Task[Any]] = []
        self.ws: Any = None
        self.close_code: int | None = None
        self.close_reason: str | None = None
        self.bot_started_at: float | None = None  # monotonic time the interviewer last began to speak
        self.on_event: Callable[[ServerEvent], None] | None = None  # sees every server event (e.g. to play audio)

    async def connect(self, open_timeout: float = 10.0) -> None:
        """`open_timeout`: a bot being replaced answers only once it is up (the socket queues the connection)."""
        self.ws = await open_connection(self.url, open_timeout=open_timeout)
        try:
            await self.ws.send(encode_message(rtvi_client_ready()))
        except ConnectionClosed:  # refused at once (a used resume token): _listen records the close
            pass
        self._tasks = [asyncio.create_task(self._mic()), asyncio.create_task(self._listen())]

    def say(self, pcm: bytes) -> None:
        self._speech.extend(pcm[i : i + CHUNK * 2] for i in range(0, len(pcm), CHUNK * 2))

    async def wait_bot_turns(self, count: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self.bot_turns_done < count:
            assert time.monotonic() < deadline, f"the interviewer spoke {self.bot_turns_done} of {count} turns"
            await asyncio.sleep(0.05)

    async def speak_and_wait_reply(self, pcm: bytes, timeout: float = 60) -> None:
        turns = self.bot_turns_done
        self.say(pcm)
        await self.wait_bot_turns(turns + 1, timeout)

    def drop(self) -> None:
        """The network goes: no close frame (the server sees 1006)."""
        for task in self._tasks:
            task.cancel()
        self.ws.transport.abort()

    async def end(self) -> None:
        """The End button: a normal close."""
        for task in self._tasks:
            task.cancel()
        await self.ws.close(1000, "candidate ended")

    async def _mic(self) -> None:
        start, sent = time.monotonic(), 0
        try:
            while True:
                chunk = self._speech.pop(0) if self._speech else bytes(CHUNK * 2)
                await self.ws.send(encode_audio(chunk.ljust(CHUNK * 2, b"\0"), RATE))
                sent += 1
                await asyncio.sleep(max(0.0, start + sent * 0.02 - time.monotonic()))
        except ConnectionClosed:
            pass

    async def _listen(self) -> None:
        try:
            async for payload in self.ws:
                event = decode(payload)
                if self.on_event is not None:
                    self.on_event(event)
                if not isinstance(event, BotMessage):
                    continue
                kind, data = event.rtvi_type, event.data
                if kind == "bot-started-speaking":
                    self.bot_speaking, self.bot_started_at = True, time.monotonic()
                elif kind == "bot-stopped-speaking" and self.bot_speaking:
                    self.bot_speaking = False
                    self.bot_turns_done += 1
                elif kind == "server-message" and isinstance(data.get("data"), dict):
                    message = data["data"]
                    if message.get("type") == "interview-session" and message.get("resume_token"):
                        self.resume_token = message["resume_token"]
        except ConnectionClosed:
            pass
        finally:
            self.close_code, self.close_reason = self.ws.close_code, self.ws.close_reason
