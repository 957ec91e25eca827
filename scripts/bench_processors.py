"""What our processors cost: per 20 ms audio frame, and for a whole offline session.

Part 1 times one hop (queue_frame -> process_frame -> push) of a 20 ms microphone
frame through each of our processors in direct mode, at 16 kHz and 8 kHz, next to
a bare pass-through (the floor every processor pays). Audio frames are what every
session pushes 50 times a second, so this is the number that decides capacity.

Part 2 runs a whole short interview offline (bot process + simulated candidate
over a real WebSocket) and reports the bot's CPU time per second of session,
its peak memory, and the client-side voice-to-voice latency.

    .venv/bin/python scripts/bench_processors.py [--frames 20000] [--skip-session]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402
from loguru import logger  # noqa: E402
from pipecat.frames.frames import InputAudioRawFrame  # noqa: E402
from pipecat.processors.aggregators.llm_context import LLMContext  # noqa: E402
from pipecat.processors.frame_processor import FrameProcessor  # noqa: E402

from interview.loader import load_interview_config  # noqa: E402
from processors.echo_gate import EchoGate  # noqa: E402
from processors.phase_tracker import PhaseTracker  # noqa: E402
from scripts.bench_hops import PassThrough, p95, time_hops  # noqa: E402

FRAME_SECONDS = 0.02


class NullSink:
    def event(self, event_type: str, **data: Any) -> None:
        pass

    def write_json(self, name: str, data: dict[str, Any]) -> Path:
        return Path(os.devnull)


def processors_under_test() -> list[tuple[str, FrameProcessor]]:
    config = load_interview_config("senior_backend_engineer")
    return [
        ("bare pass-through (floor)", PassThrough()),
        ("EchoGate (bot silent)", EchoGate(config.echo_gate, enable_direct_mode=True)),
        ("PhaseTracker", PhaseTracker(config, LLMContext(), events=NullSink(), enable_direct_mode=True)),
    ]


async def bench_frames(count: int) -> None:
    print(f"\nPer-frame cost, {count} frames of 20 ms per row (µs per hop, this machine)")
    print(f"{'processor':<28} {'rate':>6} {'median':>8} {'p95':>8}")
    for rate in (16000, 8000):
        frame = InputAudioRawFrame(audio=b"\x01\x00" * int(rate * FRAME_SECONDS), sample_rate=rate, num_channels=1)
        for name, processor in processors_under_test():
            samples = await time_hops(processor, frame, count, None)
            print(f"{name:<28} {rate:>6} {statistics.median(samples):>8.1f} {p95(samples):>8.1f}")


def short_config(directory: Path) -> Path:
    config = load_interview_config("senior_backend_engineer").model_dump(mode="json")
    config["phases"] = [{**p, "questions": p["questions"][:1]} for p in config["phases"] if p["id"] != "coding"]
    config["phases"][-1]["questions"][0]["follow_up"] = ""
    config["duration_minutes"] = 30
    config["timeouts"]["session_timeout_seconds"] = 1800
    path = directory / "bench.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def bench_session() -> None:
    from scripts.demo import BotProcess
    from scripts.simulate_candidate import run_candidate

    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        script = directory / "candidate.yaml"
        script.write_text(
            yaml.safe_dump(
                {
                    "answers": [
                        "I am a backend engineer with eight years of experience building payment services in Python.",
                        "Every payment request carries a key that is stored in the same transaction as the record.",
                        "The record and the key roll back together, so the client can send the same request again.",
                        "How big is the platform team and how does the on call rotation work?",
                        "No, that answers my questions, thank you for your time today.",
                    ]
                }
            )
        )
        os.environ.update(
            SESSIONS_DIR=str(directory / "sessions"), STT_PROVIDER="local", LLM_PROVIDER="local", TTS_PROVIDER="local"
        )
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.monotonic()
        bot = BotProcess(
            ["--transport", "websocket", "--port", "0", "--once", "--config", str(short_config(directory))]
        )
        if not bot.ready.wait(120) or bot.url is None:
            print("bot did not start")
            return
        ready = time.monotonic() - started
        report = asyncio.run(run_candidate(bot.url, script, timeout=600))
        bot.process.wait(timeout=240)
        wall = time.monotonic() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    latency = report.latency_summary()
    print("\nWhole offline session (Whisper STT, structured interviewer, Piper TTS; one bot process)")
    print(f"  bot start to ready:           {ready:.2f} s")
    print(f"  session wall time:            {wall:.1f} s, {len(report.turns)} answers, completed={report.completed}")
    print(f"  bot CPU:                      {cpu:.1f} s = {1000 * cpu / wall:.0f} ms per session second")
    print(f"  bot peak RSS:                 {after.ru_maxrss / 1024:.0f} MB")
    if latency["count"]:
        print(
            f"  client voice-to-voice:        p50 {latency['p50_ms']:.0f} ms, p95 {latency['p95_ms']:.0f} ms (n={latency['count']})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=20000)
    parser.add_argument("--skip-session", action="store_true", help="only the per-frame table")
    args = parser.parse_args()
    logger.remove()
    logger.add(sys.stderr, level="WARNING")
    asyncio.run(bench_frames(args.frames))
    if not args.skip_session:
        bench_session()


if __name__ == "__main__":
    main()
