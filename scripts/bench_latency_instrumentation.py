"""Per-frame cost of the latency instrumentation on a pipeline-shaped chain: six LatencyProbes.

Why: every 20 ms audio frame of every session crosses the whole pipeline, and each processor
in it is a hop that every observer queues. The chain here has the interview pipeline's 16
other processors as direct-mode pass-throughs (the floor each real one pays); the frame
crosses all of them. Rows:

- no latency instrumentation: only Pipecat's UserBotLatencyObserver (the floor);
- the six LatencyProbes of pipelines/interview.py (direct mode, stamping one tracker);
- as the session has it: with our UsageObserver (first pushes only);
- the session with Pipecat's RTVI observer (it sees every push), which WebSocket and room
  sessions carry and phone sessions do not; the RTVI processor's own hop at the head of the
  pipeline is not in it (it has its own task queue, which this harness does not wait for).

Two figures per row, µs per frame, median and p95 over blocks of frames: "frame path" is the
time the pushes take (what delays the audio); "with observers" also waits until every
observer's queue has drained (their work in their own tasks: the CPU a frame costs).

    .venv/bin/python scripts/bench_latency_instrumentation.py [--blocks 400] [--block-frames 50]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from loguru import logger
from pipecat.frames.frames import InputAudioRawFrame
from pipecat.observers.user_bot_latency_observer import UserBotLatencyObserver
from pipecat.pipeline.worker_observer import WorkerObserver
from pipecat.processors.frame_processor import FrameProcessor
from pipecat.processors.frameworks.rtvi import RTVIProcessor

from bots.budget import Prices, SpendMeter, UsageObserver
from interview.config import LatencyAlerts, LatencyBudget
from latency.tracker import LatencyTracker
from processors.latency_probe import LatencyProbe
from scripts.bench_hops import PassThrough, p95, set_up_chain, tear_down_chain

# pipelines/interview.py without the probes, in order; the probes sat after the marked ones.
ROLES = (
    "input", "echo_gate", "stt", "candidate_tap", "user_aggregator", "resumed_answer", "phase_tracker",
    "llm", "interrupted_reply", "tts", "filler", "output", "output_tap", "interviewer_tap", "recorder",
    "assistant_aggregator",
)  # fmt: skip
POINT_AFTER = {
    "input": "input",
    "stt": "stt",
    "user": "resumed_answer",
    "llm": "llm",
    "tts": "tts",
    "output": "output_tap",
}
FRAME_SECONDS = 0.02


def tracker() -> LatencyTracker:
    return LatencyTracker(LatencyBudget(), LatencyAlerts(), events=None, vad_stop_secs=0.2)


def bare_chain() -> tuple[list[FrameProcessor], list[Any]]:
    return [PassThrough(role) for role in ROLES], [UserBotLatencyObserver()]


def probed_chain() -> tuple[list[FrameProcessor], list[Any]]:
    shared = tracker()
    chain: list[FrameProcessor] = []
    after = {role: point for point, role in POINT_AFTER.items()}
    for role in ROLES:
        chain.append(PassThrough(role))
        if role in after:
            chain.append(LatencyProbe(shared, after[role]))
    return chain, [UserBotLatencyObserver()]


async def drained(observer: WorkerObserver) -> None:
    """Until every observer's queue is empty (WorkerObserver keeps its proxies private)."""
    for proxy in (observer._proxies or {}).values():
        await proxy.queue.join()  # its task marks every item done after the observer handled it


def as_in_the_session(
    build: Callable[[], tuple[list[FrameProcessor], list[Any]]],
) -> Callable[[], tuple[list[FrameProcessor], list[Any]]]:
    def built() -> tuple[list[FrameProcessor], list[Any]]:
        processors, observers = build()
        return processors, [*observers, UsageObserver(SpendMeter(Prices(0, 0, 0, 0), charged=frozenset()))]

    return built


def with_rtvi(
    build: Callable[[], tuple[list[FrameProcessor], list[Any]]],
) -> Callable[[], tuple[list[FrameProcessor], list[Any]]]:
    """The observer PipelineWorker adds by default with its RTVIProcessor (the processor is left out)."""

    def built() -> tuple[list[FrameProcessor], list[Any]]:
        processors, observers = build()
        return processors, [*observers, RTVIProcessor().create_rtvi_observer()]

    return built


async def time_chain(
    build: Callable[[], tuple[list[FrameProcessor], list[Any]]], blocks: int, per_block: int
) -> tuple[list[float], list[float]]:
    """µs per frame: (frame path only, until the observers drained)."""
    processors, observers = build()
    worker_observer = WorkerObserver(observers=observers)
    chain, _ = await set_up_chain(processors, worker_observer)
    frame = InputAudioRawFrame(audio=b"\x00\x00" * int(16000 * FRAME_SECONDS), sample_rate=16000, num_channels=1)
    head = chain[0]
    path: list[float] = []
    total: list[float] = []
    for block in range(blocks + 20):  # the first 20 blocks warm up
        start = time.perf_counter_ns()
        for _ in range(per_block):
            await head.queue_frame(frame)
        pushed = time.perf_counter_ns()
        await drained(worker_observer)
        if block >= 20:
            path.append((pushed - start) / 1000 / per_block)
            total.append((time.perf_counter_ns() - start) / 1000 / per_block)
    await tear_down_chain(chain, worker_observer)
    return path, total


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, default=400, help="timed blocks per row")
    parser.add_argument("--block-frames", type=int, default=50, help="frames per block (one second of audio)")
    args = parser.parse_args()
    logger.remove()
    logger.add(sys.stderr, level="WARNING")

    variants: list[tuple[str, Callable[[], Any]]] = [
        ("no latency instrumentation", bare_chain),
        ("six LatencyProbes", probed_chain),
        ("session: probes + usage observer", as_in_the_session(probed_chain)),
        ("session + RTVI observer (not phone)", with_rtvi(as_in_the_session(probed_chain))),
    ]
    results: dict[str, tuple[int, list[float], list[float]]] = {}
    for _round in range(2):  # interleaved rounds: drift on a shared machine hits every row alike
        for name, build in variants:
            hops = len(build()[0])
            path, total = await time_chain(build, args.blocks // 2, args.block_frames)
            entry = results.setdefault(name, (hops, [], []))
            entry[1].extend(path)
            entry[2].extend(total)

    print(
        f"\nper-frame cost of a 20 ms 16 kHz audio frame crossing the chain "
        f"({args.blocks} blocks of {args.block_frames} frames per row, µs per frame, median / p95)\n"
    )
    print(f"{'instrumentation':42} {'hops':>5} {'frame path':>16} {'with observers':>16}")
    for name, (hops, path, total) in results.items():
        print(
            f"{name:42} {hops:>5} {statistics.median(path):7.1f} / {p95(path):6.1f} "
            f"{statistics.median(total):7.1f} / {p95(total):6.1f}"
        )


if __name__ == "__main__":
    asyncio.run(main())
