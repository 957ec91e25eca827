"""BatchedDeepgramSTTService: fewer, larger audio writes, and not a sample lost or reordered (against the emulator)."""

from __future__ import annotations

import numpy as np
import pytest
from pipecat.frames.frames import (
    InputAudioRawFrame,
    TranscriptionFrame,
    VADUserStartedSpeakingFrame,
    VADUserStoppedSpeakingFrame,
)
from pipecat.tests.utils import SleepFrame, run_test

from emulators.deepgram import DeepgramEmulator
from services.deepgram_stt import BatchedDeepgramSTTService

RATE = 16000


def speech(seconds: float) -> bytes:
    """A loud tone whose samples all differ along it, so a lost or swapped chunk shows."""
    t = np.arange(int(seconds * RATE)) / RATE
    return (6000 * np.sin(2 * np.pi * (220 + 200 * t) * t)).astype(np.int16).tobytes()


def frames_of(pcm: bytes) -> list[InputAudioRawFrame]:
    step = int(RATE * 0.02) * 2
    return [InputAudioRawFrame(pcm[i : i + step], RATE, 1) for i in range(0, len(pcm), step)]


class Heard:
    """A Transcriber that keeps the audio the emulator transcribed (what Deepgram would have received)."""

    def __init__(self) -> None:
        self.audio: list[bytes] = []

    def __call__(self, samples: np.ndarray, prompt: str | None) -> str:
        self.audio.append(np.round(samples * 32768.0).astype(np.int16).tobytes())
        return f"answer {len(self.audio)}"


def service(dg: DeepgramEmulator, **kwargs) -> BatchedDeepgramSTTService:
    return BatchedDeepgramSTTService(
        api_key="dg-test",
        base_url=dg.base_url,
        sample_rate=RATE,
        settings=BatchedDeepgramSTTService.Settings(model="nova-3", language="en-US", interim_results=True),
        **kwargs,
    )


async def test_two_answers_arrive_whole_in_order_with_a_fifth_of_the_writes() -> None:
    first, second = speech(0.63), speech(0.41)[::-1]  # neither a whole number of 100 ms chunks
    heard = Heard()
    async with DeepgramEmulator(api_key="dg-test", transcriber=heard) as dg:
        stt = service(dg)
        frames = [
            *(
                f
                for pcm in (first, second)
                for f in (VADUserStartedSpeakingFrame(), *frames_of(pcm), SleepFrame(0.05), VADUserStoppedSpeakingFrame(), SleepFrame(0.4))
            )
        ]  # fmt: skip
        down, _ = await run_test(stt, frames_to_send=frames)
    assert heard.audio == [first, second]  # everything sent before each Finalize, nothing reordered
    assert [f.text for f in down if isinstance(f, TranscriptionFrame)] == ["answer 1", "answer 2"]
    sent_frames = len(frames_of(first)) + len(frames_of(second))
    assert stt.writes == 7 + 5 == sent_frames // 5 + 2  # 100 ms writes plus the rest of each answer at its end


async def test_audio_left_at_the_end_of_the_session_is_sent_before_the_stream_closes() -> None:
    pcm, heard = speech(0.27), Heard()
    async with DeepgramEmulator(api_key="dg-test", transcriber=heard) as dg:
        stt = service(dg)
        await run_test(stt, frames_to_send=[VADUserStartedSpeakingFrame(), *frames_of(pcm), SleepFrame(0.05)])
    assert heard.audio == [pcm]  # CloseStream transcribed all of it, the last 70 ms included


async def test_zero_sends_every_frame_and_a_negative_size_is_refused() -> None:
    pcm, heard = speech(0.2), Heard()
    async with DeepgramEmulator(api_key="dg-test", transcriber=heard) as dg:
        stt = service(dg, chunk_secs=0)
        await run_test(stt, frames_to_send=[*frames_of(pcm), SleepFrame(0.05), VADUserStoppedSpeakingFrame()])
        with pytest.raises(ValueError, match="chunk_secs"):
            service(dg, chunk_secs=-1)
    assert stt.writes == len(frames_of(pcm)) and heard.audio == [pcm]
