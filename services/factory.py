"""Which STT, LLM and TTS a session gets: cloud when configured, embedded otherwise.

Per stage the choice is `auto` (cloud when its key is set, else local), `cloud`
(fail fast naming the missing setting) or `local`. An interview config may force
a choice; otherwise the deployment setting decides.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from pipecat.processors.frame_processor import FrameProcessor
from pipecat.services.llm_service import LLMService

from interview.config import InterviewConfig, Persona, ProviderChoice
from services.errors import ProviderConfigError
from services.failover.llm import LLMFailover
from services.failover.stt import STTFailover
from services.failover.switcher import FailoverPolicy, FailoverSwitcher
from services.failover.tts import TTSFailover
from services.redact import redact_url
from settings import Settings

SWITCHERS: dict[str, type[FailoverSwitcher]] = {"stt": STTFailover, "llm": LLMFailover, "tts": TTSFailover}

Resolved = Literal["cloud", "local"]


@dataclass
class SessionServices:
    stt: FrameProcessor
    llm: FrameProcessor  # an LLMService, or an LLMFailover switcher holding several
    tts: FrameProcessor
    providers: dict[str, str]  # stage -> human-readable (primary) provider, for the session record
    failover: dict[str, list[str]] = field(default_factory=dict)  # stage -> chain of provider names
    switchers: dict[str, FailoverSwitcher] = field(default_factory=dict)  # stages with a fallback
    summarizer: LLMService | None = None  # the primary cloud LLM: it writes the context summaries


def resolve_provider(
    stage: str, forced: ProviderChoice, fallback: ProviderChoice, available: bool, needs: str
) -> Resolved:
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
            "STT",
            config.providers.stt,
            settings.stt_provider,
            settings.deepgram_api_key is not None,
            "DEEPGRAM_API_KEY",
        ),
        "llm": resolve_provider(
            "LLM",
            config.providers.llm,
            settings.llm_provider,
            settings.openai_configured(),
            "OPENAI_API_KEY or OPENAI_BASE_URL",
        ),
        "tts": resolve_provider(
            "TTS",
            config.providers.tts,
            settings.tts_provider,
            settings.elevenlabs_api_key is not None,
            "ELEVENLABS_API_KEY",
        ),
    }


def preload_local_models(settings: Settings, configs: Iterable[InterviewConfig]) -> None:
    """Load the embedded models these interviews need, once, before any session starts.

    Blocking (seconds): call it before serving, or in a thread. Raises LocalModelError
    (missing package or file) and ProviderConfigError so startup fails with one line.
    """
    # Every LLM service resolves its adapter on construction, which imports the openai SDK
    # (~0.6 s): do it here, not on the event loop when the first candidate connects.
    import pipecat.adapters.llm.services.open_ai_adapter  # noqa: F401

    from services.local_models import LOCAL_MODELS, warm_up
    from services.local_stt import whisper_options
    from services.local_tts import piper_options

    configs = list(configs)
    # The embedded engines are also every cloud stage's fallback when failover is on.
    stages = [resolve_stages(settings, config) for config in configs]
    need_stt = settings.failover_enabled or any(s["stt"] == "local" for s in stages)
    need_tts = settings.failover_enabled or any(s["tts"] == "local" for s in stages)
    whisper = LOCAL_MODELS.whisper(whisper_options(settings)) if need_stt else None
    piper = LOCAL_MODELS.piper(piper_options(settings)) if need_tts else None
    warm_up(whisper, piper)
    if any(c.turn_taking.stop_strategy == "interview" and c.turn_taking.interview.end_of_turn_model for c in configs):
        from turn_taking.end_of_turn_model import shared_end_of_turn_scorer

        shared_end_of_turn_scorer().warm_up()


def failover_policies(settings: Settings) -> dict[str, FailoverPolicy]:
    recovery = settings.failover_recovery_secs
    return {
        "stt": FailoverPolicy(settings.failover_stt_timeout_secs, recovery),
        "llm": FailoverPolicy(settings.failover_llm_timeout_secs, recovery),
        "tts": FailoverPolicy(settings.failover_tts_timeout_secs, recovery),
    }


def create_session_services(
    settings: Settings,
    config: InterviewConfig,
    *,
    persona: Persona,
    input_sample_rate: int,
    output_sample_rate: int,
    candidate_name: str | None = None,
) -> SessionServices:
    """Per stage the resolved provider; a cloud stage (with failover on) is a chain ending in the local engine."""
    stages = resolve_stages(settings, config)
    chains: dict[str, list[tuple[FrameProcessor, str]]] = {"stt": [], "llm": [], "tts": []}
    fallback = settings.failover_enabled

    if stages["stt"] == "cloud":
        from interview.stt_prompt import interview_terms
        from services.cloud import create_deepgram_stt

        stt = create_deepgram_stt(settings, input_sample_rate, interview_terms(config))
        chains["stt"].append((stt, f"deepgram:{settings.deepgram_model}"))
    if stages["stt"] == "local" or fallback:
        from interview.stt_prompt import stt_prompt
        from services.local_stt import create_local_stt

        chains["stt"].append(
            (
                create_local_stt(settings, stt_prompt(config, candidate_name)),
                f"local:whisper:{settings.local_stt_model}",
            )
        )

    if stages["llm"] == "cloud":
        from services.cloud import create_openai_llm

        model = config.providers.llm_model or settings.openai_model
        where = f"@{redact_url(settings.openai_base_url)}" if settings.openai_base_url else ""
        chains["llm"].append(
            (create_openai_llm(settings, model, sdk_retries=not fallback), f"openai-compatible:{model}{where}")
        )
        if fallback and settings.openai_fallback_base_url:
            fallback_model = settings.openai_fallback_model or model
            backup = create_openai_llm(settings, model, fallback=True, sdk_retries=False)
            backup_name = f"openai-compatible:{fallback_model}@{redact_url(settings.openai_fallback_base_url)}"
            chains["llm"].append((backup, backup_name))
    if stages["llm"] == "local" or fallback:
        from services.local_interviewer import LocalInterviewerLLMService

        interviewer = LocalInterviewerLLMService(config, persona=persona, candidate_name=candidate_name)
        chains["llm"].append((interviewer, "local:structured-interviewer"))

    if stages["tts"] == "cloud":
        from services.cloud import create_elevenlabs_tts

        voice = config.providers.tts_voice or settings.elevenlabs_voice_id
        chains["tts"].append(
            (create_elevenlabs_tts(settings, output_sample_rate, config.providers.tts_voice), f"elevenlabs:{voice}")
        )
    if stages["tts"] == "local" or fallback:
        from services.local_tts import create_local_tts

        chains["tts"].append((create_local_tts(settings), f"local:piper:{settings.local_tts_voice}"))

    policies = failover_policies(settings)
    built: dict[str, FrameProcessor] = {}
    failovers: dict[str, FailoverSwitcher] = {}
    for stage, chain in chains.items():
        if len(chain) == 1:
            built[stage] = chain[0][0]
            continue
        switcher = SWITCHERS[stage]([s for s, _ in chain], names=[n for _, n in chain], policy=policies[stage])
        built[stage] = failovers[stage] = switcher
    # The record names the primary; the chain is in `failover` (charged_stages reads the primary).
    providers = {stage: chain[0][1] for stage, chain in chains.items()}
    return SessionServices(
        stt=built["stt"],
        llm=built["llm"],
        tts=built["tts"],
        providers=providers,
        failover={stage: [n for _, n in chains[stage]] for stage in failovers},
        switchers=failovers,
        summarizer=_cloud_llm(chains["llm"][0][0]) if stages["llm"] == "cloud" else None,
    )


def _cloud_llm(service: FrameProcessor) -> LLMService:
    assert isinstance(service, LLMService)
    return service
