"""The cost estimate: what the session's cloud providers would bill, from the usage Pipecat reported.

Why a separate view: the estimate is only as good as the configured rates and only covers
cloud stages, so the page shows the usage and rates behind the number, and says plainly
when the embedded engines made the session free or when no estimate was recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

USAGE_LABELS = {
    "llm_input_tokens": "LLM input tokens",
    "llm_output_tokens": "LLM output tokens",
    "tts_characters": "TTS characters",
    "stt_seconds": "STT audio seconds",
}


@dataclass(frozen=True)
class CostView:
    present: bool
    total_usd: float | None
    by_stage: list[tuple[str, float]]
    usage: list[tuple[str, float]]
    charged: list[str]
    note: str


def build_cost(session_ended: dict[str, Any] | None) -> CostView:
    cost = (session_ended or {}).get("cost")
    if not isinstance(cost, dict):
        return CostView(False, None, [], [], [], "No cost estimate was recorded for this session.")
    charged = [str(s) for s in cost.get("charged_stages") or []]
    by_stage = [
        (str(k).upper(), float(v)) for k, v in (cost.get("by_stage_usd") or {}).items() if isinstance(v, (int, float))
    ]
    usage = [
        (USAGE_LABELS.get(k, k), float(v)) for k, v in (cost.get("usage") or {}).items() if isinstance(v, (int, float))
    ]
    if not charged:
        note = "Every stage ran on an embedded engine: no provider charges."
    else:
        note = f"Estimate for the cloud stages ({', '.join(s.upper() for s in charged)}) at the configured rates."
    total = cost.get("estimated_usd")
    return CostView(True, float(total) if isinstance(total, (int, float)) else None, by_stage, usage, charged, note)
