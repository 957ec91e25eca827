"""A child's output as lines, whatever their length: the launcher must never stop draining a bot's pipe.

Why not `StreamReader.readline` (or `async for` over the stream): it raises on a line over
its 64 KiB limit, and a reader that stops leaves the child blocked on a full pipe the next
time it logs. A bot's log can quote what its candidate sent, so the length is the client's.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

MAX_LOG_LINE_BYTES = 8 * 1024  # of one line kept; the rest is cut and counted
READ_CHUNK_BYTES = 64 * 1024


async def capped_lines(stream: asyncio.StreamReader, limit: int = MAX_LOG_LINE_BYTES) -> AsyncIterator[bytes]:
    """The stream's lines (each ending in a newline), any length in, at most `limit` bytes (plus a note) out."""
    kept, cut = bytearray(), 0
    while chunk := await stream.read(READ_CHUNK_BYTES):
        start = 0
        while (end := chunk.find(b"\n", start)) != -1:
            kept, cut = _keep(kept, cut, chunk[start:end], limit)
            yield _line(kept, cut)
            kept, cut, start = bytearray(), 0, end + 1
        kept, cut = _keep(kept, cut, chunk[start:], limit)
    if kept or cut:
        yield _line(kept, cut)


def _keep(kept: bytearray, cut: int, part: bytes, limit: int) -> tuple[bytearray, int]:
    room = max(0, limit - len(kept))
    kept += part[:room]
    return kept, cut + max(0, len(part) - room)


def _line(kept: bytearray, cut: int) -> bytes:
    return bytes(kept) + (f" [line cut: {cut} more bytes]".encode() if cut else b"") + b"\n"
