"""A pool's primary routes a returning candidate to the worker holding their session (bots/resume_routing.py)."""

from __future__ import annotations

import asyncio
import socket

import pytest

from bots import resume_tokens
from bots.resume_routing import peek_routing_key, routing_key
from transports.twilio_security import StreamTokens, caller_key

KEY = caller_key("+15557654321", "+15550001111")
STREAM_TOKEN = StreamTokens(b"s" * 32).mint("CA1", "phone_screen", KEY)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("GET /ws?resume=abc HTTP/1.1", resume_tokens.digest("abc")),
        ("GET /ws?token=t&resume=abc HTTP/1.1", resume_tokens.digest("abc")),
        (f"GET /twilio/media/{STREAM_TOKEN} HTTP/1.1", KEY),
        (f"GET /twilio/media?token={STREAM_TOKEN} HTTP/1.1", KEY),
        (f"GET /twilio/media/{StreamTokens().mint('CA2', 'x')} HTTP/1.1", None),  # no caller key: a new call
        ("GET /ws HTTP/1.1", None),
        ("GET / HTTP/1.1", None),
        ("POST /twilio/voice HTTP/1.1", None),
        ("GET /twilio/media/not-a-token HTTP/1.1", None),
        ("GET /twilio/media/e30.x HTTP/1.1", None),  # {} signed by nobody: no key
        ("\x16\x03\x01 garbage", None),
        ("", None),
    ],
)
def test_the_key_comes_from_the_resume_token_or_the_stream_tokens_caller(line: str, expected: str | None) -> None:
    assert routing_key(line) == expected


async def test_peeking_leaves_the_request_for_the_worker() -> None:
    primary, client = socket.socketpair()
    primary.setblocking(False)
    request = b"GET /ws?resume=abc HTTP/1.1\r\nHost: x\r\n\r\n"

    async def send_late() -> None:
        await asyncio.sleep(0.05)
        client.sendall(request[:10])
        await asyncio.sleep(0.05)
        client.sendall(request[10:])

    sender = asyncio.create_task(send_late())
    assert await peek_routing_key(primary, timeout=2) == resume_tokens.digest("abc")
    await sender
    assert primary.recv(1024) == request  # nothing taken: the worker's HTTP server reads it all
    primary.close()
    client.close()


async def test_a_silent_or_closed_connection_is_dispatched_without_a_key() -> None:
    primary, client = socket.socketpair()
    primary.setblocking(False)
    assert await peek_routing_key(primary, timeout=0.1) is None
    client.close()
    assert await peek_routing_key(primary, timeout=0.1) is None
    primary.close()
