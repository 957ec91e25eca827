"""Deployment settings and secrets, read from the environment and `.env`.

One pydantic-settings class for the whole process. Secrets are `SecretStr` so
they never appear in logs, reprs or `safe_summary()`. Every field is documented
in `.env.example` (a test keeps the two in step).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

ProviderChoice = Literal["auto", "cloud", "local"]


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
    deepgram_model: str = "nova-3"
    deepgram_language: str = "en-US"
    elevenlabs_voice_id: str = "21m00Tcm4TlvDq8ikWAM"
    elevenlabs_model: str = "eleven_flash_v2_5"
    local_tts_voice: str = "en-us+klatt4"
    local_tts_words_per_minute: int = Field(default=150, ge=80, le=450)

    # --- where things go ------------------------------------------------------------
    sessions_dir: Path = Path("sessions")
    host: str = "127.0.0.1"
    port: int = Field(default=8765, ge=0, le=65535)
    websocket_token: SecretStr | None = Field(
        default=None, description="If set, /ws connections must carry ?token=<this>."
    )
    max_sessions: int = Field(default=20, ge=1, description="Concurrent sessions one server process accepts.")
    log_level: Literal["TRACE", "DEBUG", "INFO", "SUCCESS", "WARNING", "ERROR"] = "INFO"

    def openai_configured(self) -> bool:
        """A key or a custom base_url (local servers often need no key) means the cloud LLM is usable."""
        return self.openai_api_key is not None or bool(self.openai_base_url)

    def safe_summary(self) -> dict[str, str]:
        """Settings for logs: secrets reduced to set/unset."""
        summary: dict[str, str] = {}
        for name, value in self.model_dump().items():
            if isinstance(value, SecretStr) or name.endswith(("_key", "_secret", "_token")):
                summary[name] = "set" if value else "unset"
            else:
                summary[name] = str(value)
        return summary
