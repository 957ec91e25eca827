"""Waiting for a room's metadata, which can lag the join by hundreds of milliseconds.

LiveKit delivers the room's metadata with (or shortly after) the join. We poll
a reader every `interval` seconds until it returns something, up to `timeout`,
then give up with a clear message. Time comes from an injectable clock and
sleep so tests check the schedule without sleeping.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

DEFAULT_POLL_INTERVAL = 0.15
DEFAULT_METADATA_TIMEOUT = 5.0

MetadataReader = Callable[[], str | None]


class MetadataTimeout(RuntimeError):
    """No metadata arrived in time."""


@dataclass(frozen=True)
class PollResult:
    metadata: str
    polls: int
    waited: float


async def wait_for_metadata(
    read: MetadataReader,
    *,
    timeout: float = DEFAULT_METADATA_TIMEOUT,
    interval: float = DEFAULT_POLL_INTERVAL,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    what: str = "room metadata",
) -> PollResult:
    """Return the first non-empty value `read()` gives, polling every `interval` up to `timeout`."""
    start = clock()
    polls = 0
    while True:
        polls += 1
        value = read()
        if value and value.strip():
            return PollResult(value, polls, clock() - start)
        waited = clock() - start
        if waited >= timeout:
            raise MetadataTimeout(f"{what}: nothing after {waited:.2f}s ({polls} polls); is the session contract set?")
        await sleep(min(interval, timeout - waited))
