"""Cloud providers: Deepgram STT, OpenAI(-compatible) LLM, ElevenLabs TTS.

Thin constructors using Pipecat 1.14's `settings=` API so the rest of the app
never sees provider-specific keyword arguments. Imports are local to each
function: a session that runs fully local never pays for the provider SDKs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pipecat.transcriptions.language import Language
from pipecat.utils.types import NOT_GIVEN

if TYPE_CHECKING:
    from pipecat.services.deepgram.stt import DeepgramSTTService
    from pipecat.services.elevenlabs.tts import ElevenLabsTTSService
    from pipecat.services.openai.llm import OpenAILLMService

    from settings import Settings


MAX_KEYTERMS = 50  # Deepgram's keyterm prompting (nova-3) takes up to 100; the first are the telling ones


def create_deepgram_stt(settings: Settings, sample_rate: int, keyterms: list[str] | None = None) -> DeepgramSTTService:
    """`keyterms`: the interview's own words (see interview/stt_prompt.py), boosted by Deepgram.

    Pipecat's service with the audio sent in ~100 ms writes (services/deepgram_stt.py).
    """
    from services.deepgram_stt import BatchedDeepgramSTTService

    assert settings.deepgram_api_key is not None
    return BatchedDeepgramSTTService(
        api_key=settings.deepgram_api_key.get_secret_value(),
        base_url=settings.deepgram_base_url or "",
        sample_rate=sample_rate,
        settings=BatchedDeepgramSTTService.Settings(
            model=settings.deepgram_model,
            language=Language(settings.deepgram_language),
            interim_results=True,
            smart_format=True,
            punctuate=True,
            keyterm=keyterms[:MAX_KEYTERMS] if keyterms else NOT_GIVEN,
        ),
    )


def create_openai_llm(
    settings: Settings, model: str | None = None, *, fallback: bool = False, sdk_retries: bool = True
) -> OpenAILLMService:
    """OpenAI or any OpenAI-compatible server (Ollama, vLLM, llama.cpp) via `OPENAI_BASE_URL`.

    `fallback`: the second endpoint (`OPENAI_FALLBACK_BASE_URL`, its key and model).
    `sdk_retries=False`: the openai SDK does not retry 5xx/429/connection errors itself (it
    would, twice, with ~0.5-1 s backoff): in a failover chain the next service is the retry.
    """
    key = settings.openai_fallback_api_key if fallback else settings.openai_api_key
    base_url = settings.openai_fallback_base_url if fallback else settings.openai_base_url
    if fallback:
        model = settings.openai_fallback_model or model
    cls = openai_llm_class(sdk_retries)
    return cls(
        api_key=key.get_secret_value() if key else "not-needed",
        base_url=base_url or None,
        settings=cls.Settings(model=model or settings.openai_model, temperature=0.6),
    )


def create_elevenlabs_tts(settings: Settings, sample_rate: int, voice: str | None = None) -> ElevenLabsTTSService:
    from pipecat.services.elevenlabs.tts import ElevenLabsTTSService

    assert settings.elevenlabs_api_key is not None
    return ElevenLabsTTSService(
        api_key=settings.elevenlabs_api_key.get_secret_value(),
        url=settings.elevenlabs_base_url or "wss://api.elevenlabs.io",
        sample_rate=sample_rate,
        settings=ElevenLabsTTSService.Settings(
            voice=voice or settings.elevenlabs_voice_id, model=settings.elevenlabs_model
        ),
    )


def openai_llm_class(sdk_retries: bool = True) -> type[OpenAILLMService]:
    """Pipecat's `OpenAILLMService`, or (`sdk_retries=False`) one whose client never retries."""
    from pipecat.services.openai.llm import OpenAILLMService

    if sdk_retries:
        return OpenAILLMService

    class NoRetryOpenAILLMService(OpenAILLMService):
        """`OpenAILLMService` whose client fails at once instead of retrying (failover retries)."""

        def create_client(self, *args: Any, **kwargs: Any) -> Any:
            return super().create_client(*args, **kwargs).with_options(max_retries=0)

    return NoRetryOpenAILLMService
