"""Which STT, LLM and TTS a session gets: cloud when configured, embedded otherwise.

Per stage the choice is `auto` (cloud when its key is set, else local), `cloud`
(fail fast naming the missing setting) or `local`. An interview config may force
a choice; otherwise the deployment setting decides.
"""

from __future__ import annotations

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


def create_session_services(
    settings: Settings,
    config: InterviewConfig,
    *,
    persona: Persona,
    input_sample_rate: int,
    output_sample_rate: int,
    candidate_name: str | None = None,
) -> SessionServices:
    stt_kind = resolve_provider(
        "STT", config.providers.stt, settings.stt_provider, settings.deepgram_api_key is not None, "DEEPGRAM_API_KEY"
    )
    llm_kind = resolve_provider(
        "LLM", config.providers.llm, settings.llm_provider, settings.openai_configured(), "OPENAI_API_KEY or OPENAI_BASE_URL"
    )
    tts_kind = resolve_provider(
        "TTS", config.providers.tts, settings.tts_provider, settings.elevenlabs_api_key is not None, "ELEVENLABS_API_KEY"
    )
    providers: dict[str, str] = {}

    if stt_kind == "cloud":
        from services.cloud import create_deepgram_stt

        stt: FrameProcessor = create_deepgram_stt(settings, input_sample_rate)
        providers["stt"] = f"deepgram:{settings.deepgram_model}"
    else:
        from services.local_stt import PocketsphinxSTTService

        stt = PocketsphinxSTTService(vocabulary_text=config.vocabulary())
        providers["stt"] = "local:pocketsphinx"

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
        from services.local_tts import EspeakTTSService

        voice = config.providers.tts_voice or settings.local_tts_voice
        tts = EspeakTTSService(voice=voice, words_per_minute=settings.local_tts_words_per_minute)
        providers["tts"] = f"local:espeak-ng:{voice}"

    return SessionServices(stt=stt, llm=llm, tts=tts, providers=providers)
