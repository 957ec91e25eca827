"""Ending a session when its estimated provider spend reaches `budget.limit_usd`.

Pipecat reports usage, not cost: `LLMUsageMetricsData` (tokens),
`TTSUsageMetricsData` (characters) and `STTUsageMetricsData` (audio seconds) in
MetricsFrames when `enable_usage_metrics` is on. `SpendMeter` prices them with
per-unit rates from settings (only for stages running on a cloud provider;
embedded engines cost nothing). `UsageObserver` feeds a meter from the pipeline
(every session keeps one, so its report can show the cost estimate), and
`BudgetGuard`, an observer too, also calls back once when the running total
reaches the limit. The estimate is as good as the rates.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from pipecat.frames.frames import MetricsFrame
from pipecat.metrics.metrics import LLMUsageMetricsData, STTUsageMetricsData, TTSUsageMetricsData
from pipecat.observers.base_observer import BaseObserver, FramePushed

from settings import Settings


@dataclass(frozen=True)
class Prices:
    llm_input_per_million_tokens: float
    llm_output_per_million_tokens: float
    tts_per_thousand_chars: float
    stt_per_minute: float


@dataclass
class SpendMeter:
    """Running cost estimate; `charged` names the stages that are billed (cloud ones)."""

    prices: Prices
    charged: frozenset[str]
    spent_usd: float = 0.0
    by_stage: dict[str, float] = field(default_factory=lambda: {"llm": 0.0, "tts": 0.0, "stt": 0.0})
    usage: dict[str, float] = field(
        default_factory=lambda: {"llm_input_tokens": 0, "llm_output_tokens": 0, "tts_characters": 0, "stt_seconds": 0.0}
    )

    def add(self, item: object) -> float:
        """Add one metrics item; returns the cost it added."""
        if isinstance(item, LLMUsageMetricsData):
            stage = "llm"
            self.usage["llm_input_tokens"] += item.value.prompt_tokens
            self.usage["llm_output_tokens"] += item.value.completion_tokens
            cost = (
                item.value.prompt_tokens * self.prices.llm_input_per_million_tokens
                + item.value.completion_tokens * self.prices.llm_output_per_million_tokens
            ) / 1_000_000
        elif isinstance(item, TTSUsageMetricsData):
            self.usage["tts_characters"] += item.value
            stage, cost = "tts", item.value * self.prices.tts_per_thousand_chars / 1000
        elif isinstance(item, STTUsageMetricsData):
            self.usage["stt_seconds"] += item.value.audio_seconds
            stage, cost = "stt", item.value.audio_seconds * self.prices.stt_per_minute / 60
        else:
            return 0.0
        if stage not in self.charged:
            return 0.0
        self.by_stage[stage] += cost
        self.spent_usd += cost
        return cost

    def summary(self) -> dict[str, object]:
        """What the session record keeps: the estimate, per stage, the usage behind it and the rates."""
        return {
            "estimated_usd": round(self.spent_usd, 4),
            "by_stage_usd": {stage: round(cost, 4) for stage, cost in self.by_stage.items()},
            "usage": {key: round(value, 1) for key, value in self.usage.items()},
            "charged_stages": sorted(self.charged),
            "prices": dict(vars(self.prices)),
        }


def prices_from(settings: Settings) -> Prices:
    return Prices(
        llm_input_per_million_tokens=settings.budget_llm_input_usd_per_mtok,
        llm_output_per_million_tokens=settings.budget_llm_output_usd_per_mtok,
        tts_per_thousand_chars=settings.budget_tts_usd_per_1k_chars,
        stt_per_minute=settings.budget_stt_usd_per_minute,
    )


class UsageObserver(BaseObserver):
    """Feeds every usage metric the pipeline reports into `meter` (once per frame)."""

    def __init__(self, meter: SpendMeter):
        super().__init__(observe_every_push=False)  # a metrics frame counts once: no queue put per hop
        self.meter = meter

    async def on_push_frame(self, data: FramePushed) -> None:
        if not data.first_push or not isinstance(data.frame, MetricsFrame):
            return
        for item in data.frame.data:
            self.meter.add(item)
        await self._after_metrics()

    async def _after_metrics(self) -> None:
        """Hook for subclasses: called after each metrics frame was added."""


class BudgetGuard(UsageObserver):
    """Calls `on_exhausted(spent)` once, when the meter reaches `limit_usd`."""

    def __init__(self, meter: SpendMeter, limit_usd: float, on_exhausted: Callable[[float], Awaitable[None]]):
        super().__init__(meter)
        self.limit_usd = limit_usd
        self._on_exhausted = on_exhausted
        self._fired = False

    async def _after_metrics(self) -> None:
        if not self._fired and self.meter.spent_usd >= self.limit_usd:
            self._fired = True
            await self._on_exhausted(self.meter.spent_usd)


def charged_stages(providers: dict[str, str]) -> frozenset[str]:
    """Stages whose provider is not an embedded engine (recorded as `local:...`)."""
    return frozenset(stage for stage, name in providers.items() if not name.startswith("local:"))
