"""What the transport abuse tests share: one real bot server per test module, a candidate socket that
reads everything the server sends, and the server's health.

Why a module-scoped server: starting a bot costs seconds (models, pipeline); every attack in a module
runs against the same server, which is also the point (it must stay healthy for the next one).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import aiohttp
import websockets

from scripts.candidate_protocol import BotAudio, BotMessage, decode, encode_message
from tests.e2e.conftest import BotServer, offline_bot_env, one_question_interview, write_yaml


@contextmanager
def running_bot(
    folder: Path, *, transport: str = "websocket", env: dict[str, str] | None = None, once: bool = False
) -> Iterator[BotServer]:
    """A `bot.py` server (offline engines, records under `folder/sessions`), stopped afterwards."""
    config = write_yaml(folder / "interview.yaml", one_question_interview("abuse"))
    bot = BotServer(
        ["--config", str(config)],
        {**offline_bot_env(folder / "sessions"), **(env or {})},
        transport=transport,
        once=once,
    )
    try:
        bot.wait_ready()
        yield bot
    finally:
        bot.stop()


def http_base(ws_url: str) -> str:
    """http://host:port of a server whose WebSocket URL is `ws_url`."""
    return "http://" + ws_url.split("//", 1)[1].split("/", 1)[0]


def _wait_file(path: Path, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    return path.exists()


async def wait_for_file(path: Path, seconds: float) -> bool:
    """True once `path` exists (a record's report is written last), False after `seconds`."""
    return await asyncio.to_thread(_wait_file, path, seconds)


async def health(ws_url: str) -> dict[str, Any]:
    async with aiohttp.ClientSession() as http, http.get(f"{http_base(ws_url)}/health") as response:
        assert response.status == 200
        return await response.json()


class Candidate:
    """One candidate socket, read all the time (an unread socket stops answering pings)."""

    def __init__(self, ws: websockets.ClientConnection) -> None:
        self.ws = ws
        self.audio = 0
        self.rtvi: list[dict[str, Any]] = []
        self.closed: websockets.ConnectionClosed | None = None
        self._changed = asyncio.Event()
        self.task = asyncio.create_task(self._read())

    @classmethod
    async def connect(cls, url: str, **options: Any) -> Candidate:
        return cls(await websockets.connect(url, **options))

    async def _read(self) -> None:
        try:
            async for message in self.ws:
                event = decode(message)
                if isinstance(event, BotAudio):
                    self.audio += 1
                elif isinstance(event, BotMessage) and event.rtvi_type:
                    self.rtvi.append(event.data)
                self._changed.set()
        except websockets.ConnectionClosed as exc:
            self.closed = exc
        self._changed.set()

    async def send_rtvi(self, message: dict[str, Any]) -> None:
        await self.ws.send(encode_message(message))

    async def wait_for(self, condition: Any, seconds: float) -> bool:
        """True once `condition()` holds (checked whenever something arrives), False after `seconds`."""
        deadline = time.monotonic() + seconds
        while not condition():
            if self.task.done():
                return bool(condition())
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), max(0.0, deadline - time.monotonic()))
            except TimeoutError:
                return bool(condition())
        return True

    def responses_to(self, message_id: str) -> list[dict[str, Any]]:
        return [m for m in self.rtvi if m.get("id") == message_id]

    async def still_open(self) -> bool:
        if self.task.done():
            return False
        try:
            await asyncio.wait_for(await self.ws.ping(), 5)
        except (websockets.ConnectionClosed, TimeoutError):
            return False
        return True

    async def close(self) -> None:
        await self.ws.close()
        self.task.cancel()
