"""Startup loads and warms the embedded models the interviews need, before any session."""

from interview.loader import load_interview_config
from services.factory import preload_local_models
from services.local_models import LOCAL_MODELS
from services.local_stt import whisper_options
from services.local_tts import piper_options
from settings import Settings


def test_preload_loads_and_exercises_both_engines() -> None:
    settings = Settings(_env_file=None, stt_provider="local", tts_provider="local", llm_provider="local")
    preload_local_models(settings, [load_interview_config("senior_backend_engineer")])
    whisper, piper = LOCAL_MODELS.whisper(whisper_options(settings)), LOCAL_MODELS.piper(piper_options(settings))
    assert whisper.pool.stats()["completed"] >= 1, "one warm-up transcription ran"
    assert piper.pool.stats()["completed"] >= 1, "one warm-up synthesis ran"
