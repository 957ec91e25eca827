"""InterviewWhisperSTTService: real Whisper tiny.en on the candidate's Piper voice, via run_test.

Audio arrives in 20 ms frames; VAD start/stop frames go through the service as the user
aggregator's copies do. Transcription happens after VAD stop in a worker thread.
"""

from __future__ import annotations

import functools

import pytest
from pipecat.frames.frames import (
    Frame,
    InputAudioRawFrame,
    TranscriptionFrame,
    VADUserStartedSpeakingFrame,
    VADUserStoppedSpeakingFrame,
)
from pipecat.pipeline.worker import PipelineParams
from pipecat.tests.utils import SleepFrame, run_test

from interview.loader import load_interview_config
from interview.stt_prompt import stt_prompt
from scripts.candidate_voice import PiperCandidateVoice
from scripts.word_accuracy import word_accuracy
from services.local_models import LOCAL_MODELS, WhisperOptions
from services.local_stt import InterviewWhisperSTTService, create_local_stt
from settings import Settings

# The candidate's voice without its random variation: the same audio on every run, so these
# floors test the recogniser, not the luck of the delivery.
steady_voice = functools.cache(lambda: PiperCandidateVoice(steady=True))
ANSWER = "Every payment request carries an idempotency key, and we keep a Redis cache in front of Postgres."
PROMPT = stt_prompt(load_interview_config("senior_backend_engineer"))


def spoken_frames(text: str, rate: int) -> list[Frame]:
    """Silence, VAD start, the answer in 20 ms frames, VAD stop, then time to transcribe."""
    pcm = steady_voice().synthesize(text, rate)
    chunk = rate // 50 * 2
    silence = [InputAudioRawFrame(bytes(chunk), rate, 1) for _ in range(10)]
    speech = [InputAudioRawFrame(pcm[i : i + chunk], rate, 1) for i in range(0, len(pcm), chunk)]
    return [*silence, SleepFrame(0.05), VADUserStartedSpeakingFrame(start_secs=0.2), *speech, *silence,
            SleepFrame(0.05), VADUserStoppedSpeakingFrame(stop_secs=0.2), SleepFrame(8)]  # fmt: skip


async def transcripts(service: InterviewWhisperSTTService, rate: int, text: str = ANSWER) -> list[str]:
    down, _ = await run_test(
        service, frames_to_send=spoken_frames(text, rate), pipeline_params=PipelineParams(audio_in_sample_rate=rate)
    )
    return [f.text for f in down if isinstance(f, TranscriptionFrame)]


def shared_service(prompt: str | None = PROMPT) -> InterviewWhisperSTTService:
    return InterviewWhisperSTTService(model=LOCAL_MODELS.whisper(WhisperOptions()), prompt=prompt)


async def test_hears_the_domain_words_at_16k() -> None:
    texts = await transcripts(shared_service(), 16000)
    heard = " ".join(texts)
    # Floors that tell a primed recogniser from an unprimed or broken one.
    assert len(texts) == 1 and sum(w in heard for w in ("idempotency", "Redis", "Postgres")) >= 1, texts
    assert word_accuracy([ANSWER], [heard]) >= 0.65, texts


async def test_phone_rate_audio_is_resampled_before_whisper() -> None:
    """8 kHz PCM handed to Whisper as if it were 16 kHz comes out as nonsense or nothing."""
    texts = await transcripts(shared_service(), 8000)
    assert word_accuracy([ANSWER], [" ".join(texts)]) >= 0.6, texts  # unresampled: below 0 (measured)


async def test_numbers_said_in_words_compare_equal_to_digits() -> None:
    said = "We cut the load by about eighty percent with a five minute cache."
    texts = await transcripts(shared_service(), 16000, said)
    assert word_accuracy([said], texts) >= 0.8, texts


def test_every_session_shares_one_model() -> None:
    settings = Settings(_env_file=None)
    first, second = create_local_stt(settings, PROMPT), create_local_stt(settings, "another prompt")
    assert first._model is second._model is LOCAL_MODELS.whisper(WhisperOptions())


async def test_transcriptions_go_through_the_bounded_pool() -> None:
    model = LOCAL_MODELS.whisper(WhisperOptions())
    before = model.pool.stats()["completed"]
    await transcripts(shared_service(), 16000, "Thanks, that answers my question.")
    stats = model.pool.stats()
    assert stats["completed"] == before + 1 and stats["size"] == 1 and "wait_ms_p95" in stats


@pytest.mark.parametrize("prompt", [None, PROMPT])
async def test_silence_is_not_transcribed(prompt: str | None) -> None:
    rate, chunk = 16000, 640
    quiet = [InputAudioRawFrame(bytes(chunk), rate, 1) for _ in range(50)]
    frames = [
        VADUserStartedSpeakingFrame(start_secs=0.2),
        *quiet,
        SleepFrame(0.05),
        VADUserStoppedSpeakingFrame(stop_secs=0.2),
        SleepFrame(4),
    ]
    down, _ = await run_test(
        shared_service(prompt), frames_to_send=frames, pipeline_params=PipelineParams(audio_in_sample_rate=rate)
    )
    assert [f.text for f in down if isinstance(f, TranscriptionFrame)] == []
