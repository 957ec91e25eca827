"""Which STT, LLM and TTS a session gets: cloud when configured, embedded otherwise.

Per stage the choice is `auto` (cloud when its key is set, else local), `cloud`
(fail fast naming the missing setting) or `local`. An interview config may force
a choice; otherwise the deployment setting decides.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from pipecat.processors.frame_processor import FrameProcessor
from pipecat.services.llm_service import LLMService

from interview.config import InterviewConfig
from interview.structured_interviewer import Persona
from settings import ProviderChoice, Settings

Resolved = Literal["cloud", "local"]


class ProviderConfigError(ValueError):
    """A provider was forced to `cloud` without the setting it needs."""


@dataclass
class SessionServices:
    stt: FrameProcessor
    llm: LLMService
    tts: FrameProcessor
    providers: dict[str, str]  # stage -> human-readable provider, for the session record


def resolve_provider(stage: str, forced: ProviderChoice, fallback: ProviderChoice, available: bool, needs: str) -> Resolved:
    choice = forced if forced != "auto" else fallback
    if choice == "cloud" and not available:
        raise ProviderConfigError(f"{stage} provider is 'cloud' but {needs} is not set")
    if choice == "auto":
        return "cloud" if available else "local"
    return choice


def resolve_stages(settings: Settings, config: InterviewConfig) -> dict[str, Resolved]:
    """Per stage (stt, llm, tts): cloud or local for this interview under these settings."""
    return {
        "stt": resolve_provider(
            "STT", config.providers.stt, settings.stt_provider, settings.deepgram_api_key is not None, "DEEPGRAM_API_KEY"
        ),
        "llm": resolve_provider(
            "LLM", config.providers.llm, settings.llm_provider, settings.openai_configured(), "OPENAI_API_KEY or OPENAI_BASE_URL"
        ),
        "tts": resolve_provider(
            "TTS", config.providers.tts, settings.tts_provider, settings.elevenlabs_api_key is not None, "ELEVENLABS_API_KEY"
        ),
    }


def preload_local_models(settings: Settings, configs: Iterable[InterviewConfig]) -> None:
    """Load the embedded models these interviews need, once, before any session starts.

    Blocking (seconds): call it before serving, or in a thread. Raises LocalModelError
    (missing package or file) and ProviderConfigError so startup fails with one line.
    """
    from services.local_models import LOCAL_MODELS

    # Every LLM service resolves its adapter on construction, which imports the openai SDK
    # (~0.6 s): do it here, not on the event loop when the first candidate connects.
    import pipecat.adapters.llm.services.open_ai_adapter  # noqa: F401

    from services.local_models import warm_up
    from services.local_stt import whisper_options
    from services.local_tts import piper_options

    stages = [resolve_stages(settings, config) for config in configs]
    whisper = LOCAL_MODELS.whisper(whisper_options(settings)) if any(s["stt"] == "local" for s in stages) else None
    piper = LOCAL_MODELS.piper(piper_options(settings)) if any(s["tts"] == "local" for s in stages) else None
    warm_up(whisper, piper)


def create_session_services(
    settings: Settings,
    config: InterviewConfig,
    *,
    persona: Persona,
    input_sample_rate: int,
    output_sample_rate: int,
    candidate_name: str | None = None,
) -> SessionServices:
    stages = resolve_stages(settings, config)
    stt_kind, llm_kind, tts_kind = stages["stt"], stages["llm"], stages["tts"]
    providers: dict[str, str] = {}

    if stt_kind == "cloud":
        from services.cloud import create_deepgram_stt

        stt: FrameProcessor = create_deepgram_stt(settings, input_sample_rate)
        providers["stt"] = f"deepgram:{settings.deepgram_model}"
    else:
        from interview.stt_prompt import stt_prompt
        from services.local_stt import create_local_stt

        stt = create_local_stt(settings, stt_prompt(config, candidate_name))
        providers["stt"] = f"local:whisper:{settings.local_stt_model}"

    if llm_kind == "cloud":
        from services.cloud import create_openai_llm

        model = config.providers.llm_model or settings.openai_model
        llm: LLMService = create_openai_llm(settings, model)
        providers["llm"] = f"openai-compatible:{model}" + (f"@{settings.openai_base_url}" if settings.openai_base_url else "")
    else:
        from services.local_interviewer import LocalInterviewerLLMService

        llm = LocalInterviewerLLMService(config, persona=persona, candidate_name=candidate_name)
        providers["llm"] = "local:structured-interviewer"

    if tts_kind == "cloud":
        from services.cloud import create_elevenlabs_tts

        tts: FrameProcessor = create_elevenlabs_tts(settings, output_sample_rate, config.providers.tts_voice)
        providers["tts"] = f"elevenlabs:{config.providers.tts_voice or settings.elevenlabs_voice_id}"
    else:
        from services.local_tts import create_local_tts

        tts = create_local_tts(settings)
        providers["tts"] = f"local:piper:{settings.local_tts_voice}"

    return SessionServices(stt=stt, llm=llm, tts=tts, providers=providers)
