"""The session's JSON contract: what the launcher writes into a room's metadata.

A LiveKit room's metadata (or a contract file for Daily / local use) carries
everything one session needs: which interview (a bundled name or an inline
config; never a file path, since whoever sets the metadata is not the operator), per-session overrides (provider, model, voice, extra instructions,
VAD, phases, budget, session timeout), who the candidate is, and when the
session was created. This module only validates that envelope; the interview
itself goes through `interview.loader` so there is one parser and one set of
error messages. Every error is one line naming the field.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, ValidationError, field_validator

from interview.config import InterviewConfig, Phase
from interview.loader import (
    ConfigError,
    config_from_data,
    describe_validation_error,
    load_bundled_config,
    parse_json_text,
)

CONTRACT_VERSION: Literal[1] = 1
NAME_MAX = 200  # names, identities, model and voice ids
INSTRUCTIONS_MAX = 4000  # extra prompt text: every turn pays for it
# Whoever writes the contract is not the operator, and these strings end up in provider requests:
# a voice id in ElevenLabs' URL path (`/v1/text-to-speech/{voice}/stream-input`), a model name in
# request bodies and the record. Plain names only: no "/" "?" "#" "&" or spaces in a voice (they
# would rewrite the URL), no ".." or control characters in either.
MODEL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,127}")  # gpt-4o-mini, llama3.1:8b, org/model
VOICE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}")  # ElevenLabs ids, Piper / espeak voice names


class ContractError(ConfigError):
    """A session contract that cannot be used; the message names the field."""


class VadConfig(BaseModel):
    """Pipecat's VADParams names, mapped onto the interview's turn_taking.vad_* fields."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    confidence: float | None = None
    start_secs: float | None = None
    stop_secs: float | None = None
    min_volume: float | None = None


class SessionContract(BaseModel):
    """The room-metadata JSON contract (version 1)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1] = CONTRACT_VERSION
    interview: str | dict[str, Any] = Field(
        description="A bundled interview's name or an inline InterviewConfig; never a path (paths are CLI-only)."
    )
    candidate_name: str | None = Field(default=None, min_length=1, max_length=NAME_MAX)
    candidate_identity: str | None = Field(
        default=None, min_length=1, max_length=NAME_MAX,
        description="LiveKit identity of the candidate; else the first participant.",
    )  # fmt: skip
    provider: Literal["auto", "cloud", "local"] | None = Field(
        default=None, description="Provider choice applied to every stage (stt, llm, tts)."
    )
    model: str | None = Field(default=None, min_length=1, max_length=NAME_MAX, description="LLM model.")
    voice: str | None = Field(default=None, min_length=1, max_length=NAME_MAX, description="TTS voice.")
    instructions: str | None = Field(
        default=None, min_length=1, max_length=INSTRUCTIONS_MAX,
        description="Extra session instructions added to the interviewer's system prompt.",
    )  # fmt: skip
    vad_config: VadConfig | None = None
    phases: list[Phase] | None = Field(default=None, min_length=1)
    budget_limit_usd: PositiveFloat | None = None
    session_timeout_seconds: PositiveFloat | None = None
    created_at: datetime | None = None

    @field_validator("model")
    @classmethod
    def _model_is_a_plain_name(cls, value: str | None) -> str | None:
        return check_model_name(value)

    @field_validator("voice")
    @classmethod
    def _voice_is_a_plain_id(cls, value: str | None) -> str | None:
        return check_voice_id(value)

    def resolve_config(self) -> InterviewConfig:
        """The interview config with this session's overrides applied, validated by the loader.

        An inline interview's own provider names are held to the same rules as `model` and `voice`."""
        if isinstance(self.interview, str):
            base = load_bundled_config(self.interview)
        else:
            base = config_from_data(self.interview, "session contract field interview")
        data = base.model_dump(mode="json")
        if self.provider is not None:
            data["providers"].update(stt=self.provider, llm=self.provider, tts=self.provider)
        if self.model is not None:
            data["providers"]["llm_model"] = self.model
        if self.voice is not None:
            data["providers"]["tts_voice"] = self.voice
        if self.vad_config is not None:
            for key, value in self.vad_config.model_dump(exclude_none=True).items():
                data["turn_taking"][f"vad_{key}"] = value
        if self.phases is not None:
            data["phases"] = [p.model_dump(mode="json") for p in self.phases]
        if self.budget_limit_usd is not None:
            data["budget"]["limit_usd"] = self.budget_limit_usd
        if self.session_timeout_seconds is not None:
            data["timeouts"]["session_timeout_seconds"] = self.session_timeout_seconds
        if self.candidate_name is not None:
            data["candidate_name"] = self.candidate_name
        config = config_from_data(data, "session contract (interview with overrides)")
        named = {
            "interview.providers.llm_model": (config.providers.llm_model, check_model_name),
            "interview.evaluation.model": (config.evaluation.model, check_model_name),
            "interview.providers.tts_voice": (config.providers.tts_voice, check_voice_id),
        }
        for where, (value, check) in named.items():
            try:
                check(value)
            except ValueError as exc:
                raise ContractError(f"session contract field {where}: {exc}") from None
        return config

    def to_json(self) -> str:
        return self.model_dump_json(exclude_none=True)


def check_model_name(value: str | None) -> str | None:
    """A model name fit for a provider request: letters, digits, ``. _ : / @ + -``; at most 128; no ``..``."""
    if value is not None and (not MODEL_NAME.fullmatch(value) or ".." in value):
        raise ValueError(
            f"model {value[:40]!r} is not a plain model name (letters, digits and . _ : / @ + -, at most 128)"
        )
    return value


def check_voice_id(value: str | None) -> str | None:
    """A voice id fit for a URL path segment: letters, digits, ``_ . + -``; at most 64; no ``..``."""
    if value is not None and (not VOICE_ID.fullmatch(value) or ".." in value):
        raise ValueError(f"voice {value[:40]!r} is not a plain voice id (letters, digits and _ . + -, at most 64)")
    return value


def parse_session_contract(text: str | None, source: str = "room metadata") -> SessionContract:
    """Parse and validate the contract JSON; raises ContractError naming the field."""
    if text is None or not text.strip():
        raise ContractError(f"{source}: empty (no session contract)")
    return contract_from_data(parse_json_text(text, source, ContractError), source)


def contract_from_data(data: Any, source: str = "session contract") -> SessionContract:
    if not isinstance(data, dict):
        raise ContractError(f"{source}: expected a JSON object, got {type(data).__name__}")
    try:
        return SessionContract.model_validate(data)
    except ValidationError as exc:
        raise ContractError(f"{source}: {describe_validation_error(exc)}") from exc


def load_session(text: str | None, source: str = "room metadata") -> tuple[SessionContract, InterviewConfig]:
    """Contract plus its resolved interview config; any error is a ContractError naming the field."""
    contract = parse_session_contract(text, source)
    try:
        return contract, contract.resolve_config()
    except ContractError:
        raise
    except ConfigError as exc:
        raise ContractError(f"{source}: {exc}") from exc
