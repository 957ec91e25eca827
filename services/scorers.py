"""Which scorer evaluates an interview, and the LLM judge itself (OpenAI-compatible).

services/ is the place that knows providers: `LLMScorer` talks to any OpenAI-compatible Chat
Completions server through the openai SDK (non-streaming, JSON mode); `create_scorer` picks it
or the offline `HeuristicScorer` per the interview's `evaluation.scorer` setting. The judge's
reply is validated with pydantic; invalid JSON or a wrong shape is fed back to the model and
retried up to `evaluation.max_retries` times, after which the run gives up with a clear reason
(`ScoringError`) that `interview.scoring.evaluate_interview` records per area.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from interview.config import InterviewConfig
from interview.heuristic_scorer import HeuristicScorer
from interview.prompts import PromptBuilder
from interview.scoring import AreaJudgement, QAPair, Scorer, ScoringError, ScoringRun, format_transcript
from services.errors import ProviderConfigError
from settings import Settings

if TYPE_CHECKING:
    from openai import AsyncOpenAI
    from openai.types.chat import ChatCompletionMessageParam

_FENCE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.DOTALL)


class ScorerConfigError(ProviderConfigError):
    """`evaluation.scorer: llm` without an LLM endpoint configured."""


class _JudgeArea(BaseModel):
    model_config = ConfigDict(extra="ignore")
    score: int | None
    evidence: list[str] = Field(default_factory=list)
    rationale: str = ""


class _JudgeOverall(BaseModel):
    model_config = ConfigDict(extra="ignore")
    recommendation: Literal["strong_yes", "yes", "maybe", "no", "strong_no"]
    confidence: float = Field(ge=0, le=1)
    summary: str = ""


class _JudgeReply(BaseModel):
    model_config = ConfigDict(extra="ignore")
    areas: dict[str, _JudgeArea]
    overall: _JudgeOverall | None = None


class LLMScorer:
    """Implements `interview.scoring.Scorer` with an OpenAI-compatible chat model as judge."""

    name = "llm"
    note: str | None = None
    confidence_ceiling = 1.0

    def __init__(
        self,
        *,
        model: str,
        api_key: str | None = None,
        base_url: str | None = None,
        client: AsyncOpenAI | None = None,
        request_timeout: float = 60.0,
        http_retries: int = 2,
    ) -> None:
        self.model = model
        if client is None:
            from openai import AsyncOpenAI

            # Local servers (Ollama, vLLM) need no key, but the SDK insists on one.
            client = AsyncOpenAI(
                api_key=api_key or "not-needed", base_url=base_url, timeout=request_timeout, max_retries=http_retries
            )
        self._client = client

    @classmethod
    def from_settings(cls, settings: Settings, config: InterviewConfig) -> LLMScorer:
        """Judge model: `evaluation.model`, else the interview's LLM model, else the deployment default."""
        model = config.evaluation.model or config.providers.llm_model or settings.openai_model
        key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
        return cls(model=model, api_key=key, base_url=settings.openai_base_url or None)

    async def aclose(self) -> None:
        await self._client.close()

    async def evaluate(
        self, config: InterviewConfig, pairs: Sequence[QAPair], *, areas: Sequence[str] | None = None
    ) -> ScoringRun:
        from openai import APIError

        wanted = list(areas) if areas is not None else config.rubric_area_ids
        messages: list[ChatCompletionMessageParam] = [
            {"role": "system", "content": PromptBuilder(config).evaluator_prompt().text},
            {"role": "user", "content": self._user_message(config, pairs, wanted, areas is not None)},
        ]
        attempts = config.evaluation.max_retries + 1
        problem = ""
        for _ in range(attempts):
            try:
                response = await self._client.chat.completions.create(
                    model=self.model,
                    messages=messages,
                    temperature=config.evaluation.temperature,
                    response_format={"type": "json_object"},
                    stream=False,
                )
            except APIError as exc:
                raise ScoringError(f"judge request failed: {type(exc).__name__}: {exc}") from exc
            content = (response.choices[0].message.content or "") if response.choices else ""
            try:
                return _parse(content, config, wanted)
            except ValueError as exc:
                problem = str(exc)
            messages.append({"role": "assistant", "content": content or "(empty reply)"})
            messages.append(
                {
                    "role": "user",
                    "content": f"That reply could not be used: {problem}. Reply again with only the JSON object, "
                    "in exactly the shape given in the instructions.",
                }
            )
        raise ScoringError(f"judge returned unusable output {attempts} time(s); last problem: {problem}")

    @staticmethod
    def _user_message(config: InterviewConfig, pairs: Sequence[QAPair], wanted: list[str], subset: bool) -> str:
        text = "Transcript (phase id in brackets):\n" + format_transcript(config, pairs)
        if subset:
            text += (
                f"\n\nThis is a single answer. Score only these areas: {', '.join(wanted)}; "
                "the areas object must contain exactly these keys."
            )
        return text + "\n\nReturn the JSON object now."


def _parse(content: str, config: InterviewConfig, wanted: list[str]) -> ScoringRun:
    """Validate one reply; a ValueError's message is what the model is told to fix."""
    fenced = _FENCE.match(content)
    text = fenced.group(1) if fenced else content
    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"invalid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from exc
    try:
        reply = _JudgeReply.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise ValueError(f"schema error at {where}: {first['msg']} ({exc.error_count()} error(s))") from exc
    missing = [a for a in wanted if a not in reply.areas]
    if missing:
        raise ValueError(f"areas is missing {', '.join(missing)}")
    lo, hi = config.score_scale.minimum, config.score_scale.maximum
    for area_id in wanted:
        score = reply.areas[area_id].score
        if score is not None and not lo <= score <= hi:
            raise ValueError(f"areas.{area_id}.score {score} is outside {lo}..{hi}")
    judgements = {
        a: AreaJudgement(reply.areas[a].score, tuple(reply.areas[a].evidence), reply.areas[a].rationale) for a in wanted
    }
    return ScoringRun(judgements, reply.overall.model_dump() if reply.overall else None)


def scorer_choice(config: InterviewConfig, settings: Settings) -> Literal["llm", "heuristic"]:
    """`auto`: the LLM judge when an OpenAI(-compatible) endpoint is configured, else the heuristic.

    Raises ScorerConfigError for `llm` without an endpoint; startup checks call this so the
    error comes before any session, not at the end of one.
    """
    choice = config.evaluation.scorer
    if choice == "heuristic":
        return "heuristic"
    if settings.openai_configured():
        return "llm"
    if choice == "llm":
        raise ScorerConfigError(
            "evaluation.scorer is 'llm' but no judge is configured: set OPENAI_API_KEY or OPENAI_BASE_URL, "
            "or use scorer: heuristic"
        )
    return "heuristic"


def create_scorer(config: InterviewConfig, settings: Settings) -> Scorer:
    if scorer_choice(config, settings) == "llm":
        return LLMScorer.from_settings(settings, config)
    return HeuristicScorer()
