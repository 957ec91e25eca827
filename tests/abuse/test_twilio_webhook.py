"""Findings 3 and 6 against a real phone server (`bot.py --transport twilio`).

* A webhook body larger than the cap is refused with 413 before the signature check, without
  the server reading the rest: both a declared Content-Length of 10 MB (only 1 KB sent) and a
  chunked body that never ends get their answer while the client is still sending.
* A signed webhook replayed for the same CallSid gets the same single-use stream token, never a
  second one (Twilio's signature has no timestamp: replays are otherwise indistinguishable).
The server answers the next, ordinary call afterwards.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from scripts.twilio_media_sim import call_form, parse_stream_twiml, post_webhook
from tests.e2e.conftest import BotServer

from .transport_helpers import health, http_base, running_bot

pytestmark = pytest.mark.e2e

ACCOUNT = "AC" + "2" * 32
AUTH = "abuse-auth-token"
HOST = "interviews.example.test"


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BotServer]:
    env = {"TWILIO_ACCOUNT_SID": ACCOUNT, "TWILIO_AUTH_TOKEN": AUTH, "PUBLIC_HOST": HOST}
    with running_bot(tmp_path_factory.mktemp("twilio"), transport="twilio", env=env) as server:
        yield server


async def _status_while_sending(server: str, head: bytes, body_chunks: list[bytes]) -> int:
    """Send `head`, then the chunks one by one (never the whole body); the status line once it arrives."""
    host, port = server.split("//", 1)[1].split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(head)
        status = asyncio.create_task(reader.readline())
        for chunk in body_chunks:
            if status.done():
                break
            writer.write(chunk)
            try:
                await writer.drain()
            except ConnectionError:
                break
            await asyncio.sleep(0.01)
        line = await asyncio.wait_for(status, 5)
        return int(line.split()[1])
    finally:
        writer.close()


async def test_oversized_webhook_bodies_are_refused_unread(bot: BotServer) -> None:
    assert bot.url
    server = http_base(bot.url)
    form = b"application/x-www-form-urlencoded"
    declared = (
        b"POST /twilio/voice HTTP/1.1\r\nHost: x\r\nContent-Type: " + form + b"\r\nContent-Length: 10000000\r\n\r\n"
    )
    assert await _status_while_sending(server, declared, [b"x" * 1024]) == 413
    chunked = (
        b"POST /twilio/voice HTTP/1.1\r\nHost: x\r\nContent-Type: " + form + b"\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    piece = b"4000\r\n" + b"x" * 0x4000 + b"\r\n"
    assert await _status_while_sending(server, chunked, [piece] * 64) == 413  # 1 MB offered, never finished
    assert (await health(bot.url))["status"] == "ok"


async def test_a_replayed_signed_webhook_gets_no_second_stream_token(bot: BotServer) -> None:
    assert bot.url
    server = http_base(bot.url)
    form = call_form("CA" + "6" * 32, ACCOUNT)
    answers = [await post_webhook(server, HOST, form, auth_token=AUTH) for _ in range(3)]
    assert answers[0][0] == 200
    first = parse_stream_twiml(answers[0][1]).url
    for status, twiml in answers[1:]:
        assert status != 200 or parse_stream_twiml(twiml).url == first, "a replay minted a second stream token"
    other = await post_webhook(server, HOST, call_form("CA" + "7" * 32, ACCOUNT), auth_token=AUTH)
    assert other[0] == 200 and parse_stream_twiml(other[1]).url != first
