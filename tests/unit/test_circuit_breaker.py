"""CircuitBreaker transitions on an injected clock, subscribers and events."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from bots.session_record import SessionRecord
from latency.circuit_breaker import BreakerState, CircuitBreaker


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


class ListSink:
    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    def event(self, event_type: str, **data: Any) -> None:
        self.events.append((event_type, data))

    def write_json(self, name: str, data: dict[str, Any]) -> Path:
        raise AssertionError("the breaker writes no files")


def make(**kwargs: Any) -> tuple[CircuitBreaker, FakeClock, list[tuple[BreakerState, BreakerState, str]]]:
    clock = FakeClock()
    breaker = CircuitBreaker(3, 60, clock, **kwargs)
    changes: list[tuple[BreakerState, BreakerState, str]] = []
    breaker.subscribe(lambda old, new, reason: changes.append((old, new, reason)))
    return breaker, clock, changes


def test_opens_after_consecutive_failures_only() -> None:
    breaker, _, changes = make()
    breaker.record_failure()
    breaker.record_failure()
    breaker.record_success()  # resets the run
    breaker.record_failure()
    breaker.record_failure()
    assert breaker.state is BreakerState.CLOSED and breaker.allow_request()
    breaker.record_failure("slow")
    assert breaker.state is BreakerState.OPEN and not breaker.allow_request()
    assert [(o, n) for o, n, _ in changes] == [(BreakerState.CLOSED, BreakerState.OPEN)]
    assert "3 consecutive failures" in changes[0][2] and "slow" in changes[0][2]


def test_half_opens_after_timeout_then_closes_on_success() -> None:
    breaker, clock, changes = make()
    for _ in range(3):
        breaker.record_failure()
    clock.t += 59.9
    breaker.record_failure()  # failures while open do not restart the timer
    breaker.record_success()  # nor does a success close it early
    assert breaker.state is BreakerState.OPEN
    clock.t += 0.1
    assert breaker.state is BreakerState.HALF_OPEN  # reading the state moves it
    assert breaker.allow_request()
    breaker.record_success()
    assert breaker.state is BreakerState.CLOSED and breaker.consecutive_failures == 0
    assert [n for _, n, _ in changes] == [BreakerState.OPEN, BreakerState.HALF_OPEN, BreakerState.CLOSED]


def test_failed_trial_reopens_and_restarts_the_timer() -> None:
    breaker, clock, changes = make()
    for _ in range(3):
        breaker.record_failure()
    clock.t += 60
    assert breaker.allow_request()  # half-open
    breaker.record_failure("still slow")
    assert breaker.state is BreakerState.OPEN
    assert changes[-1][2] == "trial failed: still slow"
    clock.t += 59
    assert breaker.state is BreakerState.OPEN
    clock.t += 1
    assert breaker.state is BreakerState.HALF_OPEN


def test_unsubscribe_and_a_failing_subscriber_do_not_break_it() -> None:
    breaker, _, changes = make()
    seen: list[BreakerState] = []

    def broken(old: BreakerState, new: BreakerState, reason: str) -> None:
        raise RuntimeError("subscriber bug")

    breaker.subscribe(broken)
    unsubscribe = breaker.subscribe(lambda o, n, r: seen.append(n))
    unsubscribe()
    for _ in range(3):
        breaker.record_failure()
    assert breaker.state is BreakerState.OPEN
    assert len(changes) == 1 and seen == []


async def test_async_subscribers_run_as_tasks() -> None:
    breaker, _, _ = make()
    done = asyncio.Event()

    async def on_change(old: BreakerState, new: BreakerState, reason: str) -> None:
        done.set()

    breaker.subscribe(on_change)
    for _ in range(3):
        breaker.record_failure()
    await asyncio.wait_for(done.wait(), 1)


def test_every_change_is_an_event() -> None:
    sink = ListSink()
    breaker, clock, _ = make(events=sink, name="latency")
    for _ in range(3):
        breaker.record_failure()
    clock.t += 60
    breaker.record_success()
    assert [(e, d["old"], d["new"]) for e, d in sink.events] == [
        ("circuit_breaker", "closed", "open"),
        ("circuit_breaker", "open", "half_open"),
        ("circuit_breaker", "half_open", "closed"),
    ]
    assert all(d["breaker"] == "latency" and d["reason"] for _, d in sink.events)


def test_events_reach_the_session_record(tmp_path: Path) -> None:
    record = SessionRecord.create(tmp_path, "t")
    breaker = CircuitBreaker(1, 5, FakeClock(), name="latency", events=record)
    breaker.record_failure("p95 too high")
    record.close()
    lines = [json.loads(line) for line in record.events_path.read_text().splitlines()]
    assert lines[0]["type"] == "circuit_breaker" and lines[0]["new"] == "open"


@pytest.mark.parametrize("kwargs", [{"failures_to_open": 0}, {"recovery_timeout_secs": 0}])
def test_rejects_nonsense_settings(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        CircuitBreaker(**kwargs)
