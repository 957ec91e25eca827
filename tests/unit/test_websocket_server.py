"""The WebSocket server over a real loopback socket: tokens, capacity, one session per connection."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest
import websockets

from transports.common import TransportHandle
from transports.uvicorn_serving import serve
from transports.websocket_server import build_websocket_app


@pytest.fixture
async def server_factory() -> AsyncIterator:
    tasks: list[asyncio.Task] = []

    async def start(**kwargs) -> tuple[int, list[TransportHandle], asyncio.Event]:
        sessions: list[TransportHandle] = []
        release = asyncio.Event()

        async def run_session(handle: TransportHandle) -> None:
            sessions.append(handle)
            await release.wait()

        ready: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        app = build_websocket_app(run_session, **kwargs)
        tasks.append(asyncio.create_task(serve(app, "127.0.0.1", 0, ready.set_result)))
        return await asyncio.wait_for(ready, 10), sessions, release

    yield start
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def _close_of(url: str) -> tuple[int, str]:
    async with websockets.connect(url) as ws:
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 5)
    return closed.value.rcvd.code, closed.value.rcvd.reason


async def test_missing_or_wrong_token_is_refused_with_a_reason(server_factory) -> None:
    port, sessions, _ = await server_factory(token="s3cret")
    assert await _close_of(f"ws://127.0.0.1:{port}/ws") == (1008, "invalid or missing token")
    assert await _close_of(f"ws://127.0.0.1:{port}/ws?token=nope") == (1008, "invalid or missing token")
    assert sessions == []


async def test_valid_token_gets_its_own_session(server_factory) -> None:
    port, sessions, release = await server_factory(token="s3cret")
    async with (
        websockets.connect(f"ws://127.0.0.1:{port}/ws?token=s3cret"),
        websockets.connect(f"ws://127.0.0.1:{port}/ws?token=s3cret"),
    ):
        for _ in range(100):
            if len(sessions) == 2:
                break
            await asyncio.sleep(0.02)
        assert len(sessions) == 2 and sessions[0].transport is not sessions[1].transport
        assert {s.kind for s in sessions} == {"websocket"}
        release.set()


async def test_full_server_refuses_politely_and_health_reports_load(server_factory) -> None:
    port, sessions, release = await server_factory(max_sessions=1)
    async with websockets.connect(f"ws://127.0.0.1:{port}/ws"):
        for _ in range(100):
            if sessions:
                break
            await asyncio.sleep(0.02)
        assert await _close_of(f"ws://127.0.0.1:{port}/ws") == (1013, "server full, try again later")
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/health") as response:
                assert await response.json() == {"status": "ok", "active_sessions": 1, "max_sessions": 1}
        release.set()


@pytest.mark.parametrize("given", ["%C3%A9t%C3%A9", "%E2%98%83", "s3cret%C3%A9", "%ED%A0%80"])
async def test_a_non_ascii_token_is_refused_with_a_reason_not_a_crash(server_factory, given: str) -> None:
    port, sessions, _ = await server_factory(token="s3cret")
    assert await _close_of(f"ws://127.0.0.1:{port}/ws?token={given}") == (1008, "invalid or missing token")
    assert sessions == []
