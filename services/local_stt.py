"""Embedded STT: Pipecat's ``WhisperSTTService`` on the process's shared Whisper model.

What Pipecat's service lacks, and this adds:
- the model comes from ``LOCAL_MODELS`` (one copy per process, loaded at server start),
  not loaded in each session's ``__init__``;
- the interview's own terms prime the decoder (``initial_prompt``), so domain words
  come out right;
- audio at any pipeline rate: Pipecat's service hands 16-bit PCM to Whisper as if it
  were 16 kHz, which garbles 8 kHz phone audio; segments are resampled to 16 kHz first.

Transcription happens at VAD stop, in a worker thread, while the turn-stop strategy is
still deciding (``SegmentedSTTService`` queues each segment to a background task).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator

import numpy as np
import soxr
from pipecat.frames.frames import Frame, TranscriptionFrame
from pipecat.services.whisper.stt import WhisperSTTService
from pipecat.transcriptions.language import Language

from frames.interview_frames import SegmentWithoutWordsFrame
from services.local_models import LOCAL_MODELS, SharedWhisperModel, WhisperOptions
from settings import Settings

WHISPER_RATE = 16000
# VAD stop -> final transcript, p99, measured with scripts/measure_stt_accuracy.py on this
# 2-core machine (tiny.en int8, greedy): the turn-stop strategy's safety net.
WHISPER_TTFS_P99_SECS = 1.2
# Segments whose no-speech probability is at or above this are dropped (Pipecat: 0.4,
# which dropped quiet real answers in our measurements).
NO_SPEECH_THRESHOLD = 0.6


def whisper_options(settings: Settings) -> WhisperOptions:
    return WhisperOptions(
        model=settings.local_stt_model,
        compute_type=settings.local_stt_compute_type,
        cpu_threads=settings.local_stt_threads,
        concurrency=settings.local_stt_concurrency,
        short_window=settings.local_stt_short_window,
    )


class InterviewWhisperSTTService(WhisperSTTService):
    """``WhisperSTTService`` with a shared model, an interview prompt and any input rate."""

    def __init__(self, *, model: SharedWhisperModel, prompt: str | None = None, **kwargs) -> None:
        self._shared_model = model
        super().__init__(
            settings=WhisperSTTService.Settings(
                model=model.name, language=Language.EN, initial_prompt=prompt, no_speech_prob=NO_SPEECH_THRESHOLD
            ),
            device="cpu",
            ttfs_p99_latency=WHISPER_TTFS_P99_SECS,
            **kwargs,
        )

    def _load(self) -> None:
        """Take the process's model instead of loading one per session."""
        self._model = self._shared_model  # type: ignore[assignment]
        if unsupported := self._unsupported_language():
            raise ValueError(unsupported)

    async def run_stt(self, audio: bytes) -> AsyncGenerator[Frame, None]:
        if self.sample_rate != WHISPER_RATE:
            pcm = np.frombuffer(audio[: len(audio) - len(audio) % 2], dtype=np.int16)
            audio = soxr.resample(pcm, self.sample_rate, WHISPER_RATE).astype(np.int16).tobytes()
        heard = False
        async for frame in super().run_stt(audio):
            heard = heard or isinstance(frame, TranscriptionFrame)
            yield frame
        if not heard:
            yield SegmentWithoutWordsFrame()


def create_local_stt(settings: Settings, prompt: str | None) -> InterviewWhisperSTTService:
    return InterviewWhisperSTTService(model=LOCAL_MODELS.whisper(whisper_options(settings)), prompt=prompt)
