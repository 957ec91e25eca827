"""One log line per interval for things a client can make happen as often as it likes.

Why: a candidate (or anyone who can reach a webhook) decides how often a refusal happens; a log
line per refusal lets them fill the disk and flood whatever reads the bot's output. This keeps
the first line of a burst, then at most one per `interval` with the count in between. Lines here
must never carry client content beyond `safe_label` (a short, plain name).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from loguru import logger

_UNSAFE = re.compile(r"[^A-Za-z0-9._:@/+-]")
LABEL_MAX = 40


def safe_label(value: object, limit: int = LABEL_MAX) -> str:
    """A client-given name (a message type, an event) fit for a log line: plain characters, short."""
    text = value if isinstance(value, str) else type(value).__name__
    cleaned = _UNSAFE.sub("?", text[:limit])
    return cleaned + ("…" if len(text) > limit else "") if cleaned else "''"


class ThrottledLog:
    """`warning(text, kind)` logs at most once per `interval` seconds per kind, saying how many were held back.

    `kind` must be one of the caller's own constants, never client data (each kind is remembered)."""

    def __init__(self, prefix: str, *, interval: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._prefix = prefix
        self._interval = interval
        self._clock = clock
        self._last: dict[str, float] = {}
        self._held: dict[str, int] = {}

    def warning(self, text: str, kind: str = "") -> bool:
        """True if this one was written."""
        now = self._clock()
        last = self._last.get(kind, float("-inf"))
        if now - last < self._interval:
            self._held[kind] = self._held.get(kind, 0) + 1
            return False
        held_count = self._held.pop(kind, 0)
        held = f" (+{held_count} similar in the last {now - last:.0f} s)" if held_count else ""
        self._last[kind] = now
        logger.warning(f"{self._prefix}: {text}{held}")
        return True
