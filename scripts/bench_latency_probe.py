"""Per-frame cost of a LatencyProbe on the audio path (20 ms frames, 16 kHz and 8 kHz).

Why: the "input" probe sits right after transport.input() and sees every 20 ms
microphone frame of every session, so its cost is paid 50 times a second per
session. This times one hop (queue_frame -> process_frame -> push to the next
processor) for a bare direct-mode pass-through (the floor any processor pays) and
for the probe, optionally with Pipecat's UserBotLatencyObserver attached the way
PipelineWorker attaches observers (a queue put per push; the observer itself runs
later in its own task and is not timed here).

    .venv/bin/python scripts/bench_latency_probe.py [--frames 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from loguru import logger
from pipecat.clocks.system_clock import SystemClock
from pipecat.frames.frames import Frame, InputAudioRawFrame, StartFrame
from pipecat.observers.user_bot_latency_observer import UserBotLatencyObserver
from pipecat.pipeline.worker_observer import WorkerObserver
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor, FrameProcessorSetup
from pipecat.utils.asyncio.task_manager import TaskManager

from interview.config import LatencyAlerts, LatencyBudget
from latency.tracker import LatencyTracker
from processors.latency_probe import LatencyProbe

FRAME_SECONDS = 0.02


class PassThrough(FrameProcessor):
    """The floor: a direct-mode processor that only passes frames on."""

    def __init__(self) -> None:
        super().__init__(enable_direct_mode=True)

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        await self.push_frame(frame, direction)


class Drain(FrameProcessor):
    """Where the measured processor pushes to; drops everything."""

    def __init__(self) -> None:
        super().__init__(enable_direct_mode=True)

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)


async def time_hops(processor: FrameProcessor, frame: Frame, count: int, observer: Any | None) -> list[float]:
    """Microseconds per queue_frame() of `frame` into `processor` (direct mode: the whole hop)."""
    task_manager = TaskManager()
    setup = FrameProcessorSetup(clock=SystemClock(), task_manager=task_manager, pipeline_worker=None, observer=observer)  # type: ignore[arg-type]
    drain = Drain()
    processor.link(drain)
    if observer is not None:
        await observer.setup(task_manager)
    for p in (processor, drain):
        await p.setup(setup)
        p._setup_finished()
    setup.clock.start()
    await processor.queue_frame(StartFrame())
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
    for p in (processor, drain):
        await p.cleanup()
    if observer is not None:
        await observer.cleanup()
    return samples


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[18]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=20000, help="frames timed per row")
    args = parser.parse_args()
    logger.remove()  # pipecat's DEBUG lines would dominate the timing
    logger.add(sys.stderr, level="WARNING")

    rows: list[tuple[str, int, list[float]]] = []
    for rate in (16000, 8000):
        frame = InputAudioRawFrame(audio=b"\x00\x00" * int(rate * FRAME_SECONDS), sample_rate=rate, num_channels=1)

        def tracker() -> LatencyTracker:
            return LatencyTracker(LatencyBudget(), LatencyAlerts(), events=None, vad_stop_secs=0.2)

        variants: list[tuple[str, FrameProcessor, Any]] = [
            ("bare pass-through", PassThrough(), None),
            ("LatencyProbe[input]", LatencyProbe(tracker(), "input"), None),
            ("LatencyProbe[user]", LatencyProbe(tracker(), "user"), None),
            ("bare + observer", PassThrough(), WorkerObserver(observers=[UserBotLatencyObserver()])),
            (
                "LatencyProbe[input] + observer",
                LatencyProbe(tracker(), "input"),
                WorkerObserver(observers=[UserBotLatencyObserver()]),
            ),
        ]
        for name, processor, observer in variants:
            rows.append((name, rate, await time_hops(processor, frame, args.frames, observer)))

    print(f"\nper-frame cost of one hop, 20 ms InputAudioRawFrame, {args.frames} frames per row (µs)\n")
    print(f"{'processor':34} {'rate':>6} {'median':>8} {'p95':>8} {'max':>9}")
    for name, rate, samples in rows:
        print(f"{name:34} {rate:>6} {statistics.median(samples):8.2f} {p95(samples):8.2f} {max(samples):9.1f}")
    bare = {rate: statistics.median(s) for name, rate, s in rows if name == "bare pass-through"}
    probe = {rate: statistics.median(s) for name, rate, s in rows if name == "LatencyProbe[input]"}
    for rate in bare:
        extra = probe[rate] - bare[rate]
        share = 100 * probe[rate] / (FRAME_SECONDS * 1e6)
        print(
            f"\n{rate} Hz: the probe adds {extra:.2f} µs over a bare hop; a whole probe hop is {share:.3f} % of a 20 ms frame"
        )


if __name__ == "__main__":
    asyncio.run(main())
