"""A small circuit breaker: closed -> open after N failures -> half-open after a timeout.

The latency tracker feeds it one verdict per evaluated turn (p95 over budget or
not); the failover work reads `state` / `allow_request()` and subscribes to
changes to switch providers. Pipecat has no generic breaker (its service
switcher only reacts to unusable services), hence this one.

Semantics:
- closed: `failures_to_open` *consecutive* failures open it; a success resets the count.
- open: `allow_request()` is False. Failures recorded while open are counted but do
  not restart the timer. Once `recovery_timeout_secs` have passed since it opened,
  reading `state` (or calling `allow_request()`) moves it to half_open.
- half_open: a trial; the next success closes it, the next failure re-opens it
  (and restarts the timer).

Every change is reported to subscribers as `callback(old, new, reason)` and, if an
EventSink is given, as a `circuit_breaker` event.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Callable
from enum import Enum
from typing import Any

from loguru import logger

from interview.events import EventSink


class BreakerState(str, Enum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


BreakerListener = Callable[[BreakerState, BreakerState, str], Any]


class CircuitBreaker:
    """Counts failures and opens after `failures_to_open` in a row; see the module docstring."""

    def __init__(
        self,
        failures_to_open: int = 3,
        recovery_timeout_secs: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        *,
        name: str = "breaker",
        events: EventSink | None = None,
    ) -> None:
        if failures_to_open < 1:
            raise ValueError("failures_to_open must be >= 1")
        if recovery_timeout_secs <= 0:
            raise ValueError("recovery_timeout_secs must be > 0")
        self.name = name
        self.failures_to_open = failures_to_open
        self.recovery_timeout_secs = recovery_timeout_secs
        self._clock = clock
        self._events = events
        self._state = BreakerState.CLOSED
        self._consecutive_failures = 0
        self._failures_while_open = 0
        self._opened_at: float | None = None
        self._listeners: list[BreakerListener] = []
        self._pending: set[asyncio.Task[Any]] = set()

    # --- reading -------------------------------------------------------------------

    @property
    def state(self) -> BreakerState:
        """Current state; an open breaker whose timeout has passed becomes half_open here."""
        if (
            self._state is BreakerState.OPEN
            and self._opened_at is not None
            and self._clock() - self._opened_at >= self.recovery_timeout_secs
        ):
            self._transition(BreakerState.HALF_OPEN, f"recovery timeout ({self.recovery_timeout_secs:g} s) elapsed")
        return self._state

    @property
    def consecutive_failures(self) -> int:
        return self._consecutive_failures

    def allow_request(self) -> bool:
        """False only while open (half_open lets trial requests through)."""
        return self.state is not BreakerState.OPEN

    def snapshot(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "state": self.state.value,
            "consecutive_failures": self._consecutive_failures,
            "failures_to_open": self.failures_to_open,
            "recovery_timeout_secs": self.recovery_timeout_secs,
        }

    # --- feeding -------------------------------------------------------------------

    def record_failure(self, reason: str = "failure") -> None:
        state = self.state
        if state is BreakerState.HALF_OPEN:
            self._consecutive_failures += 1
            self._transition(BreakerState.OPEN, f"trial failed: {reason}")
        elif state is BreakerState.CLOSED:
            self._consecutive_failures += 1
            if self._consecutive_failures >= self.failures_to_open:
                self._transition(
                    BreakerState.OPEN, f"{self._consecutive_failures} consecutive failures; last: {reason}"
                )
        else:
            self._failures_while_open += 1

    def record_success(self, reason: str = "success") -> None:
        state = self.state
        if state is BreakerState.HALF_OPEN:
            self._transition(BreakerState.CLOSED, f"trial succeeded: {reason}")
        elif state is BreakerState.CLOSED:
            self._consecutive_failures = 0
        # open: wait for the recovery timeout, a success alone does not close it

    # --- subscribers ---------------------------------------------------------------

    def subscribe(self, callback: BreakerListener) -> Callable[[], None]:
        """Call `callback(old, new, reason)` on every change (async callbacks run as tasks).

        Returns a function that unsubscribes.
        """
        self._listeners.append(callback)

        def unsubscribe() -> None:
            if callback in self._listeners:
                self._listeners.remove(callback)

        return unsubscribe

    # --- internals -----------------------------------------------------------------

    def _transition(self, new: BreakerState, reason: str) -> None:
        old = self._state
        if new is old:
            return
        self._state = new
        if new is BreakerState.OPEN:
            self._opened_at = self._clock()
            self._failures_while_open = 0
        elif new is BreakerState.CLOSED:
            self._opened_at = None
            self._consecutive_failures = 0
        logger.info(f"circuit breaker {self.name}: {old.value} -> {new.value} ({reason})")
        if self._events is not None:
            try:
                self._events.event(
                    "circuit_breaker",
                    breaker=self.name,
                    old=old.value,
                    new=new.value,
                    reason=reason,
                    consecutive_failures=self._consecutive_failures,
                )
            except Exception:
                logger.exception(f"circuit breaker {self.name}: event sink failed")
        for listener in list(self._listeners):
            self._notify(listener, old, new, reason)

    def _notify(self, listener: BreakerListener, old: BreakerState, new: BreakerState, reason: str) -> None:
        try:
            result = listener(old, new, reason)
        except Exception:
            logger.exception(f"circuit breaker {self.name}: subscriber {listener!r} failed")
            return
        if inspect.isawaitable(result):
            try:
                task = asyncio.get_running_loop().create_task(_await(result))
            except RuntimeError:  # no running loop: cannot run an async subscriber
                if inspect.iscoroutine(result):
                    result.close()
                logger.warning(f"circuit breaker {self.name}: async subscriber called without an event loop")
                return
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)


async def _await(awaitable: Any) -> None:
    try:
        await awaitable
    except Exception:
        logger.exception("circuit breaker: async subscriber failed")
