"""FailoverStrategy: any failure switches down the chain; a half-open primary gets a trial turn."""

from __future__ import annotations

import asyncio

from pipecat.processors.frame_processor import FrameProcessor

from latency.circuit_breaker import BreakerState
from services.failover.strategy import FailoverStrategy


def chain(recovery: float = 60) -> tuple[FailoverStrategy, list[FrameProcessor]]:
    services = [FrameProcessor(name=n) for n in ("primary", "backup", "local")]
    strategy = FailoverStrategy(services)
    strategy.configure(recovery, ["primary", "backup", "local"])
    return strategy, services


async def test_each_failure_moves_one_step_down_and_the_last_has_nowhere_to_go() -> None:
    strategy, (primary, backup, local) = chain()
    assert await strategy.fail(primary, "503") is backup
    assert await strategy.fail(backup, "timeout") is local
    assert await strategy.fail(local, "boom") is None and strategy.active_service is local


async def test_a_failure_of_an_inactive_service_does_not_switch() -> None:
    strategy, (primary, backup, _) = chain()
    assert await strategy.fail(backup, "late error") is None and strategy.active_service is primary
    assert strategy.breakers[backup].state is BreakerState.OPEN


async def test_half_open_primary_gets_a_trial_and_success_closes_it() -> None:
    strategy, (primary, _backup, _) = chain(recovery=0.01)
    await strategy.fail(primary, "503")
    await asyncio.sleep(0.02)
    assert await strategy.maybe_recover() is primary
    assert strategy.succeeded(primary) is True and strategy.breakers[primary].state is BreakerState.CLOSED


async def test_a_failed_trial_opens_the_breaker_again() -> None:
    strategy, (primary, backup, _) = chain(recovery=0.01)
    await strategy.fail(primary, "503")
    await asyncio.sleep(0.02)
    await strategy.maybe_recover()
    assert await strategy.fail(primary, "503 again") is backup and strategy.breakers[primary].state is BreakerState.OPEN


async def test_no_trial_before_the_recovery_time() -> None:
    strategy, (primary, backup, _) = chain(recovery=60)
    await strategy.fail(primary, "hang")
    assert await strategy.maybe_recover() is None and strategy.active_service is backup
