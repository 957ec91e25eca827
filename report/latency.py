"""The latency chart: one bar per candidate turn, stacked by stage, against the budget line.

Why geometry here and not in the template: the template only draws rectangles it is given,
so the arithmetic (scales, stacking, the budget line, ticks) is plain Python that can be
read and tested, and the SVG stays inline (no chart library, no network).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from report.record import json_object

STAGE_LABELS = {
    "endpointing": "End of turn",
    "stt": "Speech-to-text",
    "llm_ttfb": "LLM first token",
    "function_calls": "Tool calls",
    "text_aggregation": "Text aggregation",
    "tts_ttfb": "TTS first audio",
    "transport": "Transport",
    "listener": "To the listener",
}
STAGE_COLOURS = {
    "endpointing": "#5b6b8c",
    "stt": "#3d8fb8",
    "llm_ttfb": "#7a5cc7",
    "function_calls": "#b8567a",
    "text_aggregation": "#c48a2c",
    "tts_ttfb": "#3f9b6e",
    "transport": "#8a8f98",
    "listener": "#b9bec7",
}
WIDTH, HEIGHT = 760, 240
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 52, 12, 14, 30


@dataclass(frozen=True)
class Segment:
    stage: str
    label: str
    colour: str
    ms: float
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Bar:
    turn: int
    total_ms: float
    status: str
    x: float
    label_x: float
    segments: list[Segment]


@dataclass(frozen=True)
class LatencyView:
    present: bool
    bars: list[Bar]
    ticks: list[tuple[float, str]]  # (y, label)
    budget_ms: float | None
    budget_y: float | None
    p50_ms: float | None
    p95_ms: float | None
    worst_stage: str | None
    worst_detail: str | None
    summary: str | None
    legend: list[tuple[str, str]]
    width: int = WIDTH
    height: int = HEIGHT
    plot_left: int = PAD_LEFT
    plot_right: int = WIDTH - PAD_RIGHT
    plot_bottom: int = HEIGHT - PAD_BOTTOM


def build_latency(latency: dict[str, Any]) -> LatencyView:
    turns = [t for t in latency.get("turns") or [] if isinstance(t, dict) and isinstance(t.get("stages_ms"), dict)]
    stats = json_object(latency, "stats")
    total = json_object(stats, "total_ms")
    budget = json_object(latency, "budget")
    verdict = json_object(latency, "verdict")
    budget_ms = _num(budget.get("total_ms"))
    stacks = [(t, _stack(t["stages_ms"])) for t in turns]
    top = max([sum(ms for _, ms in stack) for _, stack in stacks] + [budget_ms or 0.0, 1.0])
    scale_max = _nice(top * 1.08)
    plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM
    plot_w = WIDTH - PAD_LEFT - PAD_RIGHT

    def y(ms: float) -> float:
        return round(PAD_TOP + plot_h * (1 - ms / scale_max), 1)

    slot = plot_w / max(1, len(stacks))
    bar_w = round(min(42.0, slot * 0.64), 1)
    bars = []
    used: set[str] = set()
    for i, (turn, stack) in enumerate(stacks):
        x = round(PAD_LEFT + slot * i + (slot - bar_w) / 2, 1)
        segments, base = [], 0.0
        for stage, ms in stack:
            used.add(stage)
            top_y, bottom_y = y(base + ms), y(base)
            segments.append(
                Segment(
                    stage,
                    STAGE_LABELS.get(stage, stage),
                    STAGE_COLOURS.get(stage, "#999"),
                    ms,
                    x,
                    top_y,
                    bar_w,
                    round(bottom_y - top_y, 1),
                )
            )
            base += ms
        bars.append(
            Bar(
                int(turn.get("turn") or i + 1),
                round(base, 1),
                str(turn.get("status") or ""),
                x,
                round(x + bar_w / 2, 1),
                segments,
            )
        )
    ticks = [(y(v), f"{v / 1000:g} s" if scale_max >= 2000 else f"{v:.0f} ms") for v in _tick_values(scale_max)]
    worst = verdict.get("worst_stage") if isinstance(verdict.get("worst_stage"), str) else None
    worst_detail = None
    if worst and _num(verdict.get("worst_stage_p95_ms")) is not None:
        worst_detail = f"p95 {verdict['worst_stage_p95_ms']:.0f} ms against a {_num(verdict.get('worst_stage_budget_ms')) or 0:.0f} ms budget"
    return LatencyView(
        present=bool(latency),
        bars=bars,
        ticks=ticks,
        budget_ms=budget_ms,
        budget_y=y(budget_ms) if budget_ms else None,
        p50_ms=_num(total.get("p50")),
        p95_ms=_num(total.get("p95")),
        worst_stage=STAGE_LABELS.get(worst, worst) if worst else None,
        worst_detail=worst_detail,
        summary=verdict.get("summary") if isinstance(verdict.get("summary"), str) else None,
        legend=[(STAGE_LABELS[s], STAGE_COLOURS[s]) for s in STAGE_LABELS if s in used],
    )


def _stack(stages: dict[str, Any]) -> list[tuple[str, float]]:
    return [(s, float(stages[s])) for s in STAGE_LABELS if _num(stages.get(s)) and float(stages[s]) > 0]


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _nice(value: float) -> float:
    """The next round number above `value` (1, 2, 2.5, 5 x 10^n)."""
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power


def _tick_values(scale_max: float) -> list[float]:
    step = scale_max / 4
    return [round(step * i, 3) for i in range(5)]
