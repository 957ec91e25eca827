"""Findings 4 (/ws) and 10 on a real WebSocket server: other sites' pages, silent sockets, audio floods.

* A page on another site opening `/ws` from the candidate's browser (its Origin says so) is
  refused before the socket is accepted (HTTP 403); the page's own origin and non-browser
  clients (no Origin) get in.
* A socket that never sends audio or client-ready is closed after WEBSOCKET_JOIN_TIMEOUT_SECS,
  so silent sockets cannot hold every slot.
* 40 s of audio sent in about a second (under the message-rate cap) is cut to about twice real
  time: the session's recording stays the length of the session, not of the flood.
"""

from __future__ import annotations

import asyncio
import time
import wave
from collections.abc import Iterator
from pathlib import Path

import pytest
import websockets
from websockets.exceptions import InvalidStatus

from scripts.candidate_protocol import encode_audio, rtvi_client_ready
from tests.e2e.conftest import BotServer

from .transport_helpers import Candidate, health, http_base, running_bot, wait_for_file

pytestmark = pytest.mark.e2e

JOIN_TIMEOUT = 3
FLOOD_SECONDS = 40


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("socket")


@pytest.fixture(scope="module")
def bot(folder: Path) -> Iterator[BotServer]:
    with running_bot(folder, env={"WEBSOCKET_JOIN_TIMEOUT_SECS": str(JOIN_TIMEOUT)}) as server:
        yield server


async def test_other_sites_are_refused_before_accept_the_page_and_tools_get_in(bot: BotServer) -> None:
    url = bot.url
    assert url
    for origin in ("https://evil.example", "null", http_base(url).replace("127.0.0.1", "127.0.0.1.evil.example")):
        with pytest.raises(InvalidStatus) as refused:
            async with websockets.connect(url, origin=origin):  # type: ignore[arg-type]
                pass
        assert refused.value.response.status_code == 403, origin
    same_site = await Candidate.connect(url, origin=http_base(url))  # what the page served at / sends
    tool = await Candidate.connect(url)  # no Origin: the simulated candidate, Pipecat's evals
    try:
        for client in (same_site, tool):
            await client.send_rtvi(rtvi_client_ready())
            assert await client.wait_for(lambda c=client: c.audio > 0, 30), "no greeting"
    finally:
        await same_site.close()
        await tool.close()


async def test_a_silent_socket_is_closed_after_the_join_timeout(bot: BotServer) -> None:
    url = bot.url
    assert url
    silent = await Candidate.connect(url)
    started = time.monotonic()
    assert await silent.wait_for(lambda: silent.closed is not None, JOIN_TIMEOUT + 10), "a silent socket kept its slot"
    assert silent.closed is not None and silent.closed.rcvd is not None and silent.closed.rcvd.code == 1008
    assert time.monotonic() - started >= JOIN_TIMEOUT - 0.5
    assert (await health(url))["status"] == "ok"


async def test_an_audio_flood_is_cut_to_about_twice_real_time(bot: BotServer, folder: Path) -> None:
    url = bot.url
    assert url
    before = set((folder / "sessions").iterdir())
    flooder = await Candidate.connect(url)
    await flooder.send_rtvi(rtvi_client_ready())
    two_seconds = encode_audio(b"\x00\x10" * 32000, 16000)  # 64 000 bytes: under the 64 KiB message cap
    started = time.monotonic()
    for _ in range(FLOOD_SECONDS // 2):
        await flooder.ws.send(two_seconds)
    await asyncio.sleep(3)
    assert await flooder.still_open(), "the flood should be dropped, not the connection"
    await flooder.close()
    wall = time.monotonic() - started
    records = set((folder / "sessions").iterdir()) - before
    assert len(records) == 1
    (record,) = records
    recording = record / "recording.wav"
    assert await wait_for_file(record / "report.html", 60), "the flooded session's record was not closed"
    with wave.open(str(recording)) as wav:
        seconds = wav.getnframes() / wav.getframerate()
    assert seconds < FLOOD_SECONDS / 2, f"{seconds:.1f} s recorded for a {wall:.1f} s session: the flood got in"
    assert "audio faster than real time" in "\n".join(bot.output)
    assert (await health(url))["status"] == "ok"
