"""Budget: Pipecat usage metrics priced per cloud stage; the guard fires once at the limit."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from pipecat.frames.frames import MetricsFrame
from pipecat.metrics.metrics import (
    LLMTokenUsage,
    LLMUsageMetricsData,
    STTUsage,
    STTUsageMetricsData,
    TTFBMetricsData,
    TTSUsageMetricsData,
)

from bots.budget import BudgetGuard, Prices, SpendMeter, charged_stages

PRICES = Prices(
    llm_input_per_million_tokens=1.0, llm_output_per_million_tokens=4.0, tts_per_thousand_chars=0.5, stt_per_minute=0.6
)


def llm(prompt: int, completion: int) -> LLMUsageMetricsData:
    usage = LLMTokenUsage(prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion)
    return LLMUsageMetricsData(processor="llm", value=usage)


def test_meter_prices_each_stage() -> None:
    meter = SpendMeter(PRICES, charged=frozenset({"llm", "tts", "stt"}))
    assert meter.add(llm(1_000_000, 250_000)) == pytest.approx(2.0)
    assert meter.add(TTSUsageMetricsData(processor="tts", value=2000)) == pytest.approx(1.0)
    assert meter.add(STTUsageMetricsData(processor="stt", value=STTUsage(audio_seconds=30))) == pytest.approx(0.3)
    assert meter.add(TTFBMetricsData(processor="llm", value=0.2)) == 0
    assert meter.spent_usd == pytest.approx(3.3)


def test_local_engines_cost_nothing() -> None:
    stages = charged_stages(
        {"stt": "local:whisper:tiny.en", "llm": "openai-compatible:gpt-4o", "tts": "local:piper:en_US-joe-medium"}
    )
    assert stages == {"llm"}
    meter = SpendMeter(PRICES, charged=stages)
    meter.add(TTSUsageMetricsData(processor="tts", value=10_000))
    assert meter.spent_usd == 0


async def test_guard_calls_back_once_when_the_limit_is_reached() -> None:
    fired: list[float] = []

    async def exhausted(spent: float) -> None:
        fired.append(spent)

    guard = BudgetGuard(SpendMeter(PRICES, charged=frozenset({"llm"})), 1.0, exhausted)

    async def push(item: object, first: bool = True) -> None:
        await guard.on_push_frame(SimpleNamespace(frame=MetricsFrame(data=[item]), first_push=first))  # type: ignore[arg-type]

    await push(llm(500_000, 0))
    await push(llm(500_000, 0), first=False)  # the same frame seen at a later hop is not counted twice
    assert fired == []
    await push(llm(400_000, 100_000))
    assert fired == [pytest.approx(1.3)]
    await push(llm(400_000, 0))
    assert len(fired) == 1
