"""Per-frame cost of the EchoGate on 20 ms microphone frames (16 kHz and 8 kHz).

Why: the gate sits right after transport.input() and sees every 20 ms frame of
every session (50 a second per session), so it must stay at a few microseconds.
Two numbers per case:

* ``gate_audio``: the gate's own work (RMS, rule, silenced copy when gated);
* ``process_frame``: the whole processor call with nothing linked after it
  (adds FrameProcessor bookkeeping and the push; pipeline queue hops are not
  included, see scripts/bench_hops.py for those).

States: bot silent (open: passes), bot speaking (echo-level frame: silenced
copy; loud frame: barge-in passes), tail (echo-level frame: silenced copy).

    .venv/bin/python scripts/bench_echo_gate.py [--frames 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
from loguru import logger
from pipecat.frames.frames import BotStartedSpeakingFrame, BotStoppedSpeakingFrame, InputAudioRawFrame
from pipecat.processors.frame_processor import FrameDirection

from interview.config import EchoGateSettings
from processors.echo_gate import EchoGate

WARMUP = 1000
CASES = [  # (state, frame rms)
    ("bot silent", 0.02),
    ("bot speaking, echo", 0.02),
    ("bot speaking, barge-in", 0.2),
    ("tail", 0.02),
]


def noise_frame(rate: int, rms: float, seed: int = 0) -> InputAudioRawFrame:
    samples = np.random.default_rng(seed).standard_normal(rate // 50) * rms * 32767
    audio = np.clip(samples, -32768, 32767).astype("<i2").tobytes()
    return InputAudioRawFrame(audio=audio, sample_rate=rate, num_channels=1)


async def gate_in_state(state: str) -> EchoGate:
    """A gate whose clock stays 0.5 s after the bot stopped (for the tail)."""
    now = [0.0]
    gate = EchoGate(EchoGateSettings(), clock=lambda: now[0])
    if state != "bot silent":
        await gate.process_frame(BotStartedSpeakingFrame(), FrameDirection.UPSTREAM)
    if state == "tail":
        await gate.process_frame(BotStoppedSpeakingFrame(), FrameDirection.UPSTREAM)
        now[0] = 0.5
    return gate


def percentiles(samples_ns: list[int]) -> tuple[float, float]:
    ordered = sorted(samples_ns)
    return statistics.median(ordered) / 1000, ordered[int(0.95 * (len(ordered) - 1))] / 1000


def time_sync(call: Callable[[], object], n: int) -> list[int]:
    for _ in range(WARMUP):
        call()
    out = []
    for _ in range(n):
        start = time.perf_counter_ns()
        call()
        out.append(time.perf_counter_ns() - start)
    return out


async def time_async(call: Callable[[], Awaitable[object]], n: int) -> list[int]:
    for _ in range(WARMUP):
        await call()
    out = []
    for _ in range(n):
        start = time.perf_counter_ns()
        await call()
        out.append(time.perf_counter_ns() - start)
    return out


async def bench_echo_gate(frames: int) -> list[tuple[int, str, str, float, float]]:
    """Rows of (rate, state, what, median µs, p95 µs)."""
    rows = []
    for rate in (16000, 8000):
        for state, rms in CASES:
            frame = noise_frame(rate, rms)
            gate = await gate_in_state(state)
            rows.append(
                (
                    rate,
                    state,
                    "gate_audio",
                    *percentiles(time_sync(lambda gate=gate, frame=frame: gate.gate_audio(frame), frames)),
                )
            )
            gate = await gate_in_state(state)
            timed = await time_async(
                lambda gate=gate, frame=frame: gate.process_frame(frame, FrameDirection.DOWNSTREAM), frames
            )
            rows.append((rate, state, "process_frame", *percentiles(timed)))
    return rows


def print_table(rows: list[tuple[int, str, str, float, float]], frames: int) -> None:
    print(f"EchoGate, 20 ms frames, {frames} iterations per row (µs per frame)")
    print(f"{'rate':>6}  {'state':<24}{'call':<15}{'median':>8}{'p95':>8}")
    for rate, state, what, median, p95 in rows:
        print(f"{rate:>6}  {state:<24}{what:<15}{median:>8.2f}{p95:>8.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=20000, help="timed iterations per row")
    args = parser.parse_args()
    logger.remove()
    print_table(asyncio.run(bench_echo_gate(args.frames)), args.frames)


if __name__ == "__main__":
    main()
