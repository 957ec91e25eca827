"""EspeakTTSService: Pipecat 1.14 TTS frames at the pipeline's output rate, offline."""

import pytest
from loguru import logger
from pipecat.frames.frames import (
    TTSAudioRawFrame,
    TTSSpeakFrame,
    TTSStartedFrame,
    TTSStoppedFrame,
    TTSUpdateSettingsFrame,
)
from pipecat.pipeline.worker import PipelineParams
from pipecat.tests.utils import SleepFrame, run_test

from services.local_tts import EspeakTTSService, EspeakTTSSettings

TEXT = "Thanks for joining today. Could you tell me about yourself?"
WORDS = len(TEXT.split())


def audio_of(frames) -> list[TTSAudioRawFrame]:
    return [f for f in frames if isinstance(f, TTSAudioRawFrame)]


@pytest.fixture
def errors():
    """ERROR log lines emitted during the test (e.g. incomplete settings objects)."""
    lines: list[str] = []
    sink = logger.add(lambda m: lines.append(str(m)), level="ERROR")
    yield lines
    logger.remove(sink)


@pytest.mark.parametrize("rate", [8000, 16000, 24000])
async def test_speaks_at_the_pipeline_output_rate(rate: int, errors: list[str]) -> None:
    down, _ = await run_test(
        EspeakTTSService(),
        frames_to_send=[TTSSpeakFrame(TEXT)],
        pipeline_params=PipelineParams(audio_out_sample_rate=rate),
    )
    kinds = [type(f) for f in down]
    started, stopped = kinds.index(TTSStartedFrame), kinds.index(TTSStoppedFrame)
    audio = audio_of(down)
    positions = [i for i, kind in enumerate(kinds) if kind is TTSAudioRawFrame]
    assert audio and started < positions[0] and positions[-1] < stopped
    assert {(f.sample_rate, f.num_channels) for f in audio} == {(rate, 1)}
    assert all(len(f.audio) == rate * 40 // 1000 * 2 for f in audio[:-1])  # 40 ms chunks
    seconds = sum(len(f.audio) for f in audio) / 2 / rate
    expected = WORDS * 60 / 150
    assert 0.6 * expected < seconds < 1.8 * expected
    assert errors == []


async def test_explicit_sample_rate_wins() -> None:
    down, _ = await run_test(
        EspeakTTSService(sample_rate=16000),
        frames_to_send=[TTSSpeakFrame("Hello.")],
        pipeline_params=PipelineParams(audio_out_sample_rate=24000),
    )
    assert {f.sample_rate for f in audio_of(down)} == {16000}


async def test_rate_can_change_at_runtime() -> None:
    tts = EspeakTTSService(words_per_minute=120)
    down, _ = await run_test(
        tts,
        frames_to_send=[
            TTSSpeakFrame(TEXT),
            SleepFrame(0.3),
            TTSUpdateSettingsFrame(delta=EspeakTTSSettings(words_per_minute=300)),
            SleepFrame(0.05),
            TTSSpeakFrame(TEXT),
        ],
    )
    turns: list[int] = []
    for frame in down:
        if isinstance(frame, TTSStartedFrame):
            turns.append(0)
        elif isinstance(frame, TTSAudioRawFrame):
            turns[-1] += len(frame.audio)
    assert len(turns) == 2 and turns[1] < 0.6 * turns[0]


def test_unknown_voice_fails_at_construction() -> None:
    with pytest.raises(ValueError, match="no-such-voice"):
        EspeakTTSService(voice="no-such-voice")
