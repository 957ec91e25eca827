"""Percentiles and the session's verdict: p50/p95 of what was measured, judged against the latency budget."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from interview.config import LatencyBudget
from latency.turn_record import stage_budgets_ms


def percentile(values: Sequence[float], q: float) -> float:
    """q-th percentile with linear interpolation (numpy's default), q in [0, 100]."""
    if not values:
        raise ValueError("percentile of no values")
    return float(np.percentile(values, q))


def p50_p95(values: Iterable[float | None]) -> dict[str, float | int | None]:
    present = [v for v in values if v is not None]
    if not present:
        return {"n": 0, "p50": None, "p95": None}
    return {"n": len(present), "p50": round(percentile(present, 50), 1), "p95": round(percentile(present, 95), 1)}


def verdict(
    totals: list[float], stage_stats: dict[str, dict[str, Any]], budget: LatencyBudget, min_samples: int
) -> dict[str, Any]:
    """Within budget or not (p95 of the complete turns), and the stage furthest over its own budget."""
    budget_total = budget.total_ms
    stage_budgets = stage_budgets_ms(budget)
    worst: tuple[str, float] | None = None
    for stage, stats in stage_stats.items():
        if not stats["p95"]:  # never measured, or never took any time
            continue
        overrun = stats["p95"] - stage_budgets[stage]
        if worst is None or overrun > worst[1]:
            worst = (stage, overrun)
    if not totals:
        return {
            "within_budget": None,
            "samples": 0,
            "enough_samples": False,
            "p95_total_ms": None,
            "budget_total_ms": budget_total,
            "worst_stage": None,
            "summary": "no complete turns",
        }
    p95 = round(percentile(totals, 95), 1)
    within = p95 <= budget_total
    verdict: dict[str, Any] = {
        "within_budget": within,
        "samples": len(totals),
        "enough_samples": len(totals) >= min_samples,
        "p95_total_ms": p95,
        "budget_total_ms": budget_total,
        "worst_stage": None,
    }
    text = f"{'within' if within else 'over'} budget: p95 {p95:.0f} ms {'<=' if within else '>'} {budget_total:.0f} ms"
    if worst is not None:
        stage, overrun = worst
        verdict.update(
            worst_stage=stage,
            worst_stage_p95_ms=stage_stats[stage]["p95"],
            worst_stage_budget_ms=stage_budgets[stage],
            worst_stage_overrun_ms=round(overrun, 1),
        )
        text += (
            f"; worst stage {stage} (p95 {stage_stats[stage]['p95']:.0f} ms vs "
            f"{stage_budgets[stage]:.0f} ms budget, {overrun:+.0f} ms)"
        )
    if not verdict["enough_samples"]:
        text += f" [only {len(totals)} turns, fewer than min_samples={min_samples}]"
    verdict["summary"] = text
    return verdict
