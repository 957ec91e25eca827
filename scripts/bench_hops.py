"""Timing one processor hop in direct mode: the floor pass-through, a drain, the per-frame timer.

Shared by the per-frame benches (bench_processors.py, bench_latency_instrumentation.py).
"""

from __future__ import annotations

import asyncio
import itertools
import statistics
import time
from typing import Any

from pipecat.clocks.system_clock import SystemClock
from pipecat.frames.frames import Frame, StartFrame
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor, FrameProcessorSetup
from pipecat.utils.asyncio.task_manager import TaskManager


class PassThrough(FrameProcessor):
    """The floor: a direct-mode processor that only passes frames on."""

    def __init__(self, name: str | None = None) -> None:
        super().__init__(name=name, enable_direct_mode=True)

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        await self.push_frame(frame, direction)


class Drain(FrameProcessor):
    """Where the measured chain pushes to; drops everything."""

    def __init__(self) -> None:
        super().__init__(enable_direct_mode=True)

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)


async def set_up_chain(
    processors: list[FrameProcessor], observer: Any | None
) -> tuple[list[FrameProcessor], TaskManager]:
    """Link `processors` into a drain and set them up the way a PipelineWorker does (clock, observer)."""
    task_manager = TaskManager()
    setup = FrameProcessorSetup(clock=SystemClock(), task_manager=task_manager, pipeline_worker=None, observer=observer)  # type: ignore[arg-type]
    chain = [*processors, Drain()]
    for a, b in itertools.pairwise(chain):
        a.link(b)
    if observer is not None:
        await observer.setup(task_manager)
    for p in chain:
        await p.setup(setup)
        p._setup_finished()
    setup.clock.start()
    await chain[0].queue_frame(StartFrame())
    return chain, task_manager


async def tear_down_chain(chain: list[FrameProcessor], observer: Any | None) -> None:
    for p in chain:
        await p.cleanup()
    if observer is not None:
        await observer.cleanup()


async def time_hops(processor: FrameProcessor, frame: Frame, count: int, observer: Any | None) -> list[float]:
    """Microseconds per queue_frame() of `frame` into `processor` (direct mode: the whole hop)."""
    chain, _ = await set_up_chain([processor], observer)
    for _ in range(min(1000, count)):  # warm up
        await processor.queue_frame(frame)
    samples: list[float] = []
    perf = time.perf_counter_ns
    for _ in range(count):
        start = perf()
        await processor.queue_frame(frame)
        samples.append((perf() - start) / 1000)
        if observer is not None and len(samples) % 500 == 0:
            await asyncio.sleep(0)  # let the observer's task drain its queue, as in a live session
    await tear_down_chain(chain, observer)
    return samples


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[18]
