"""Waiting for room metadata: on time, late (after N polls), never — checked on a fake clock."""

from __future__ import annotations

import json

import pytest

from interview.session_contract import ContractError, load_session
from transports.room_metadata import MetadataTimeout, wait_for_metadata


class FakeTime:
    """A clock that only moves when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def reader_after(polls: int, value: str | None):  # type: ignore[no-untyped-def]
    calls = {"n": 0}

    def read() -> str | None:
        calls["n"] += 1
        return value if calls["n"] > polls else ""

    return read, calls


VALID = json.dumps({"interview": "senior_backend_engineer", "candidate_name": "Ada"})


async def test_metadata_present_at_join_needs_one_poll_and_no_sleep() -> None:
    t = FakeTime()
    result = await wait_for_metadata(lambda: VALID, clock=t.clock, sleep=t.sleep)
    assert result.metadata == VALID and result.polls == 1 and result.waited == 0
    assert t.sleeps == []


async def test_late_metadata_arrives_after_n_polls_at_150_ms_intervals() -> None:
    t = FakeTime()
    read, calls = reader_after(4, VALID)
    result = await wait_for_metadata(read, clock=t.clock, sleep=t.sleep)
    assert result.polls == 5 and calls["n"] == 5
    assert t.sleeps == [0.15] * 4
    assert result.waited == pytest.approx(0.6)
    contract, config = load_session(result.metadata)
    assert contract.candidate_name == "Ada" and config.candidate_name == "Ada"


async def test_missing_metadata_times_out_at_the_deadline_with_a_clear_message() -> None:
    t = FakeTime()
    read, calls = reader_after(10**6, VALID)
    with pytest.raises(MetadataTimeout, match=r"room metadata: nothing after 5.00s \(35 polls\)"):
        await wait_for_metadata(read, timeout=5.0, clock=t.clock, sleep=t.sleep)
    assert sum(t.sleeps) == pytest.approx(5.0)  # never sleeps past the deadline
    assert max(t.sleeps) == pytest.approx(0.15)
    assert calls["n"] == 35


async def test_custom_timeout_and_interval() -> None:
    t = FakeTime()
    with pytest.raises(MetadataTimeout):
        await wait_for_metadata(lambda: None, timeout=1.0, interval=0.4, clock=t.clock, sleep=t.sleep)
    assert t.sleeps == pytest.approx([0.4, 0.4, 0.2])


async def test_malformed_late_metadata_is_returned_then_rejected_naming_the_problem() -> None:
    t = FakeTime()
    read, _ = reader_after(2, '{"interview": "senior_backend_engineer", "budget_limit_usd": "lots"}')
    result = await wait_for_metadata(read, clock=t.clock, sleep=t.sleep)
    with pytest.raises(ContractError, match="budget_limit_usd"):
        load_session(result.metadata)
    read, _ = reader_after(1, "{oops")
    result = await wait_for_metadata(read, clock=t.clock, sleep=t.sleep)
    with pytest.raises(ContractError, match="invalid JSON"):
        load_session(result.metadata)
