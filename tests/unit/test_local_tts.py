"""SharedPiperTTSService: Pipecat's Piper run_tts on the process's shared joe voice, via run_test."""

from __future__ import annotations

import numpy as np
import pytest
from loguru import logger
from pipecat.frames.frames import TTSAudioRawFrame, TTSSpeakFrame, TTSStartedFrame, TTSStoppedFrame
from pipecat.pipeline.worker import PipelineParams
from pipecat.tests.utils import SleepFrame, run_test

from services.local_models import LOCAL_MODELS, PiperOptions
from services.local_tts import SharedPiperTTSService, create_local_tts
from settings import Settings

TEXT = "Thanks for joining today. Could you tell me about yourself?"


@pytest.fixture
def errors():
    """ERROR log lines emitted during the test (e.g. incomplete settings objects)."""
    lines: list[str] = []
    sink = logger.add(lambda m: lines.append(str(m)), level="ERROR")
    yield lines
    logger.remove(sink)


@pytest.mark.parametrize("rate", [24000, 16000, 8000])
async def test_speaks_at_the_pipeline_output_rate(rate: int, errors: list[str]) -> None:
    service = SharedPiperTTSService(voice=LOCAL_MODELS.piper(PiperOptions()))
    down, _ = await run_test(
        service,
        frames_to_send=[TTSSpeakFrame(TEXT), SleepFrame(4)],
        pipeline_params=PipelineParams(audio_out_sample_rate=rate),
    )
    types = [type(f) for f in down]
    assert TTSStartedFrame in types and TTSStoppedFrame in types
    audio = [f for f in down if isinstance(f, TTSAudioRawFrame)]
    assert audio and {f.sample_rate for f in audio} == {rate}
    samples = np.frombuffer(b"".join(f.audio for f in audio), dtype=np.int16)
    seconds = len(samples) / rate
    assert 2.0 < seconds < 6.0, seconds  # two short sentences of speech
    assert np.abs(samples).max() > 3000, "audible speech, not silence"
    assert errors == []


def test_every_session_shares_one_voice() -> None:
    settings = Settings(_env_file=None)
    first, second = create_local_tts(settings), create_local_tts(settings)
    assert first._voice is second._voice is LOCAL_MODELS.piper(PiperOptions())


async def test_synthesis_goes_through_the_bounded_pool() -> None:
    voice = LOCAL_MODELS.piper(PiperOptions())
    before = voice.pool.stats()["completed"]
    await run_test(SharedPiperTTSService(voice=voice), frames_to_send=[TTSSpeakFrame("One. Two."), SleepFrame(2)])
    assert voice.pool.stats()["completed"] > before


async def test_a_repeated_short_sentence_is_synthesized_once() -> None:
    voice = LOCAL_MODELS.piper(PiperOptions())
    frames = [
        TTSSpeakFrame("Got it, thank you."),
        SleepFrame(1.5),
        TTSSpeakFrame("Got it, thank you."),
        SleepFrame(1.5),
    ]
    completed, hits = voice.pool.stats()["completed"], voice.cache_hits
    down, _ = await run_test(SharedPiperTTSService(voice=voice), frames_to_send=frames)
    assert voice.cache_hits == hits + 1 and voice.pool.stats()["completed"] <= completed + 2
    starts = [i for i, f in enumerate(down) if isinstance(f, TTSStartedFrame)]
    assert len(starts) == 2
    first, second = (
        b"".join(f.audio for f in down[a:b] if isinstance(f, TTSAudioRawFrame))
        for a, b in zip(starts, [starts[1], len(down)])
    )
    assert len(first) > 0 and abs(len(first) - len(second)) < 0.05 * len(first)  # same speech (resampler state aside)
