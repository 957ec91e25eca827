"""Extra delay a candidate hears per provider fault, per stage (failover switchers + emulators).

For each stage (STT, LLM, TTS) and fault, the primary is an emulator with that fault and the
fallback the same emulator without; the time from the turn's trigger (speech end, context,
last text) to the first output the candidate depends on (transcript, first token, first
audio), plus any silence inside the reply's playback (audio played out in real time), is
compared with a fault-free run. Engines are stand-ins with the embedded engines' measured
speed (Whisper tiny.en ~0.6 s per answer, Piper ~0.07x real time), so the numbers are the
failover's cost, not the engines'. Timeouts as in `.env.example` unless overridden.

    python scripts/bench_failover.py [--runs 3] [--stage llm] [--fault hang] [--stt-timeout 2.5 --llm-timeout 3 --tts-timeout 2]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from loguru import logger
from pipecat.frames.frames import (
    Frame,
    InputAudioRawFrame,
    LLMContextFrame,
    LLMFullResponseEndFrame,
    LLMFullResponseStartFrame,
    LLMTextFrame,
    TranscriptionFrame,
    TTSAudioRawFrame,
    VADUserStartedSpeakingFrame,
    VADUserStoppedSpeakingFrame,
)
from pipecat.pipeline.pipeline import Pipeline
from pipecat.processors.aggregators.llm_context import LLMContext
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor
from pipecat.tests.utils import SleepFrame, run_test

from emulators.deepgram import DeepgramEmulator
from emulators.elevenlabs import ElevenLabsEmulator
from emulators.faults import Fault
from emulators.openai import FakeOpenAIServer
from services.failover.llm import LLMFailover
from services.failover.stt import STTFailover
from services.failover.switcher import FailoverPolicy
from services.failover.tts import TTSFailover

REPLY = "That makes sense. How would you keep the payment idempotent when the client retries?"
FAULTS = {
    "stt": ["none", "drop:25,http_error:503*8", "drop:25", "hang", "slow_first_byte:5", "malformed"],
    "llm": [
        "none",
        "refuse*3",
        "http_error:503*3",
        "http_error:429*3",
        "hang",
        "slow_first_byte:5",
        "drop:4",
        "malformed",
    ],
    "tts": ["none", "refuse*8", "http_error:503*8", "hang", "slow_first_byte:5", "drop:2", "malformed"],
}


@dataclass
class Stamps:
    trigger: float | None = None
    arrivals: list[tuple[float, float]] = field(default_factory=list)  # (time, seconds of audio or 0)


class Stamp(FrameProcessor):
    """Notes when the trigger passes and when outputs arrive."""

    def __init__(self, stamps: Stamps, trigger: type, output: Callable[[Frame], float | None]) -> None:
        super().__init__()
        self._stamps, self._trigger, self._output = stamps, trigger, output

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if isinstance(frame, self._trigger):
            self._stamps.trigger = time.monotonic()
        elif direction is FrameDirection.DOWNSTREAM and (secs := self._output(frame)) is not None:
            self._stamps.arrivals.append((time.monotonic(), secs))
        await self.push_frame(frame, direction)


def around(
    switcher: FrameProcessor, stamps: Stamps, trigger: type, output: Callable[[Frame], float | None]
) -> Pipeline:
    """Trigger noted before the switcher, outputs after it."""
    return Pipeline([Stamp(stamps, trigger, lambda f: None), switcher, Stamp(stamps, type(None), output)])


def heard_delay_ms(stamps: Stamps) -> float:
    """Silence the listener hears: trigger -> first output, plus gaps in real-time playout."""
    if stamps.trigger is None or not stamps.arrivals:
        return float("nan")
    first = stamps.arrivals[0][0]
    silence, play_end = first - stamps.trigger, first
    for at, secs in stamps.arrivals:
        if at > play_end:
            silence += at - play_end if at != first else 0
            play_end = at
        play_end += secs
    return silence * 1000


def whisper_like(text: str) -> Callable:
    def transcribe(_audio: np.ndarray, _prompt: str | None) -> str:
        time.sleep(0.6)
        return text

    return transcribe


def piper_like(rate: int = 22050) -> Callable:
    def synthesize(text: str) -> tuple[bytes, int]:
        secs = 0.35 * len(text.split())
        time.sleep(0.07 * secs)
        return np.full(int(secs * rate), 100, dtype=np.int16).tobytes(), rate

    return synthesize


async def run_stt(fault: str, policy: FailoverPolicy) -> float:
    from pipecat.services.deepgram.stt import DeepgramSTTService

    answer = "I would put an idempotency key on every request."
    async with (
        DeepgramEmulator(transcriber=whisper_like(answer)) as a,
        DeepgramEmulator(transcriber=whisper_like(answer)) as b,
    ):
        _inject(a, fault)
        make = lambda s: DeepgramSTTService(api_key="k", base_url=s.base_url, sample_rate=16000)  # noqa: E731
        switcher = STTFailover([make(a), make(b)], names=["primary", "fallback"], policy=policy)
        stamps = Stamps()
        pipeline = around(
            switcher, stamps, VADUserStoppedSpeakingFrame, lambda f: 0.0 if isinstance(f, TranscriptionFrame) else None
        )
        t = np.arange(16000 * 2) / 16000
        pcm = (6000 * np.sin(2 * np.pi * 220 * t)).astype(np.int16).tobytes()
        audio = [InputAudioRawFrame(pcm[i : i + 640], 16000, 1) for i in range(0, len(pcm), 640)]
        frames = [SleepFrame(0.3), VADUserStartedSpeakingFrame()]
        for f in audio:  # real time, as a microphone delivers it
            frames += [f, SleepFrame(0.02)]
        frames += [VADUserStoppedSpeakingFrame(), SleepFrame(policy.timeout_secs + 2.5)]
        await run_test(pipeline, frames_to_send=frames)
    return heard_delay_ms(stamps)


async def run_llm(fault: str, policy: FailoverPolicy) -> float:
    from services.cloud import openai_llm_class

    OpenAILLMService = openai_llm_class(sdk_retries=False)  # as in a failover chain
    async with FakeOpenAIServer(default_text=REPLY) as a, FakeOpenAIServer(default_text=REPLY) as b:
        _inject(a, fault)

        def make(s: FakeOpenAIServer) -> OpenAILLMService:
            return OpenAILLMService(api_key="k", base_url=s.base_url, settings=OpenAILLMService.Settings(model="m"))

        switcher = LLMFailover([make(a), make(b)], names=["primary", "fallback"], policy=policy)
        stamps = Stamps()
        pipeline = around(switcher, stamps, LLMContextFrame, lambda f: 0.0 if isinstance(f, LLMTextFrame) else None)
        context = LLMContext(messages=[{"role": "user", "content": "I use idempotency keys."}])
        await run_test(pipeline, frames_to_send=[LLMContextFrame(context), SleepFrame(policy.timeout_secs + 2.5)])
    return heard_delay_ms(stamps)


async def run_tts(fault: str, policy: FailoverPolicy) -> float:
    from pipecat.services.elevenlabs.tts import ElevenLabsTTSService

    async with ElevenLabsEmulator(synthesizer=piper_like()) as a, ElevenLabsEmulator(synthesizer=piper_like()) as b:
        _inject(a, fault)

        def make(s: ElevenLabsEmulator) -> ElevenLabsTTSService:
            return ElevenLabsTTSService(
                api_key="k", url=s.base_url, sample_rate=24000, settings=ElevenLabsTTSService.Settings(voice="v")
            )

        switcher = TTSFailover([make(a), make(b)], names=["primary", "fallback"], policy=policy)
        stamps = Stamps()
        audio = lambda f: len(f.audio) / 2 / f.sample_rate if isinstance(f, TTSAudioRawFrame) else None  # noqa: E731
        pipeline = around(switcher, stamps, LLMFullResponseEndFrame, audio)
        text = [LLMTextFrame(t) for t in re.findall(r"\s*\S+", REPLY)]
        frames = [
            SleepFrame(0.5),
            LLMFullResponseStartFrame(),
            *text,
            LLMFullResponseEndFrame(),
            SleepFrame(policy.timeout_secs + 6),
        ]
        await run_test(pipeline, frames_to_send=frames)
    return heard_delay_ms(stamps)


def _inject(server, fault: str) -> None:
    if fault != "none":
        server.faults.inject(*[f for spec in fault.split(",") for f in Fault.parse(spec)])


async def main(args: argparse.Namespace) -> None:
    if not args.verbose:
        logger.remove()
    policies = {
        "stt": FailoverPolicy(args.stt_timeout, 600),
        "llm": FailoverPolicy(args.llm_timeout, 600),
        "tts": FailoverPolicy(args.tts_timeout, 600),
    }
    runners = {"stt": run_stt, "llm": run_llm, "tts": run_tts}
    for stage in args.stage or ("stt", "llm", "tts"):
        baseline: float | None = None
        for fault in [f for f in FAULTS[stage] if not args.fault or f == "none" or f in args.fault]:
            values = [await runners[stage](fault, policies[stage]) for _ in range(args.runs)]
            median = statistics.median(values)
            baseline = median if fault == "none" else baseline
            extra = median - baseline if baseline is not None else float("nan")
            runs = ", ".join(f"{v:.0f}" for v in values)
            print(f"{stage:3} {fault:26} silence {median:7.0f} ms  extra {extra:+7.0f} ms  (runs: {runs})", flush=True)


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--stage", action="append", choices=["stt", "llm", "tts"])
    p.add_argument("--fault", action="append", help="only these faults (and the baseline), e.g. hang")
    p.add_argument("--verbose", action="store_true", help="keep Pipecat's log")
    p.add_argument("--stt-timeout", type=float, default=2.5)
    p.add_argument("--llm-timeout", type=float, default=3.0)
    p.add_argument("--tts-timeout", type=float, default=2.0)
    asyncio.run(main(p.parse_args()))
