"""Which worker of a pool a returning candidate belongs to: the resume key in the request, read without taking it.

Why: a dropped session waits in the worker process that ran it (`bots/suspended_sessions.py`); in a
pool (`bots/worker_pool.py`) the primary hands each new TCP connection to the least-loaded worker, so
a page coming back with `?resume=<token>`, or a phone call back whose media stream carries the
caller's key, would land on a worker that knows nothing of it and be refused. The primary peeks at
the request line (MSG_PEEK: the bytes stay in the socket for the worker's HTTP server) and routes
by the key the holding worker reported. Routing only: the worker still checks the token, and the
stream token's signature, itself; a forged key at worst picks a worker, which then refuses.
"""

from __future__ import annotations

import asyncio
import socket
from urllib.parse import parse_qs, urlsplit

from bots import resume_tokens
from transports.twilio_security import unverified_caller_key

PEEK_TIMEOUT_SECS = 2.0  # clients send the request line at once; a slow one is dispatched by load
PEEK_POLL_SECS = 0.005
REQUEST_HEAD_MAX_BYTES = 8192
TWILIO_MEDIA_PATH = "/twilio/media"


def routing_key(request_line: str) -> str | None:
    """The held-session key a request line asks for (`GET /ws?resume=T HTTP/1.1`, a Twilio media stream)."""
    parts = request_line.split(" ")
    if len(parts) != 3 or parts[0] != "GET":
        return None
    target = urlsplit(parts[1])
    query = parse_qs(target.query)
    if resume := query.get("resume"):
        return resume_tokens.digest(resume[0])
    if target.path == TWILIO_MEDIA_PATH:
        token = (query.get("token") or [""])[0]
    elif target.path.startswith(TWILIO_MEDIA_PATH + "/"):
        token = target.path.removeprefix(TWILIO_MEDIA_PATH + "/")
    else:
        return None
    return unverified_caller_key(token)


async def peek_routing_key(conn: socket.socket, timeout: float = PEEK_TIMEOUT_SECS) -> str | None:
    """The routing key of the connection's first request line, peeked (never consumed); None if none in time."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            head = conn.recv(REQUEST_HEAD_MAX_BYTES, socket.MSG_PEEK)
        except BlockingIOError:
            head = b""
        except OSError:
            return None  # reset before it said anything
        line, newline, _ = head.partition(b"\r\n")
        if newline or len(head) >= REQUEST_HEAD_MAX_BYTES:
            return routing_key(line.decode("latin-1"))
        if loop.time() >= deadline:
            return None
        await asyncio.sleep(PEEK_POLL_SECS)
