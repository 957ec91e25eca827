"""How late this process's event loop runs: a stall here is a stall in every live interview's audio.

A ticker sleeps `interval` and measures how much later than asked it woke up. `/health`
and the load benchmark (scripts/bench_load.py) read the worst lag (recent and since start) and
the recent p99 (every tick of the window, so a steady few-ms lag shows too); a stall over
`warn_ms` is logged with its size, so "the loop froze when a session started" shows up
in the bot's log, not only as a latency mystery.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque

from loguru import logger


class LoopLagMonitor:
    def __init__(self, *, interval: float = 0.05, window_seconds: float = 10.0, warn_ms: float = 50.0) -> None:
        self.interval = interval
        self.warn_ms = warn_ms
        self.max_ms = 0.0
        self._recent: deque[tuple[float, float]] = deque()  # (when, lag_ms)
        self._window = window_seconds
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._tick())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()

    @property
    def recent_max_ms(self) -> float:
        """The worst lag within the last window (0 when the loop kept time)."""
        cutoff = time.monotonic() - self._window
        worst = max((lag for when, lag in self._recent if when >= cutoff), default=0.0)
        return worst if worst >= 1.0 else 0.0

    @property
    def recent_p99_ms(self) -> float:
        """The 99th percentile of the window's ticks (nearest rank)."""
        cutoff = time.monotonic() - self._window
        lags = sorted(lag for when, lag in self._recent if when >= cutoff)
        return lags[min(len(lags) - 1, int(0.99 * len(lags)))] if lags else 0.0

    def snapshot(self) -> dict[str, float]:
        return {
            "loop_lag_ms": round(self.recent_max_ms, 1),
            "loop_lag_p99_ms": round(self.recent_p99_ms, 1),
            "loop_lag_max_ms": round(self.max_ms, 1),
        }

    async def _tick(self) -> None:
        while True:
            asked = time.monotonic()
            await asyncio.sleep(self.interval)
            now = time.monotonic()
            lag_ms = max(0.0, (now - asked - self.interval) * 1000)
            self.max_ms = max(self.max_ms, lag_ms)
            self._recent.append((now, lag_ms))
            while self._recent and self._recent[0][0] < now - self._window:
                self._recent.popleft()
            if lag_ms > self.warn_ms:
                logger.warning(f"event loop stalled {lag_ms:.0f} ms")
