"""The scorecard view: per rubric area the score, both runs, spread, review flags and evidence links.

Why its own view: evaluation.json is written for machines (ids, flags, run records). A reader
needs names, the reason behind every flag in words, each quote as a link to the moment it was
said, and the scorer named plainly, with the offline heuristic shown as indicative only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from report.record import json_object
from report.timing import TimedLine, clock, locate_quote

RECOMMENDATION_LABELS = {
    "strong_yes": "Strong yes",
    "yes": "Yes",
    "maybe": "Maybe",
    "no": "No",
    "strong_no": "Strong no",
    "insufficient_evidence": "Insufficient evidence",
}
FLAG_LABELS = {
    "needs_human_review": "Needs human review",
    "fabricated_evidence_dropped": "Unverified quotes dropped",
    "single_run": "Only one run scored",
    "no_evidence": "No evidence",
}


@dataclass(frozen=True)
class Quote:
    text: str
    seek: float | None  # None: the quote was not found in the transcript
    at: str


@dataclass(frozen=True)
class AreaView:
    id: str
    name: str
    weight: float
    score: float | None
    runs: list[float | None]
    spread: float | None
    review: bool
    flags: list[str]
    reason: str | None
    rationale: str
    quotes: list[Quote]


@dataclass(frozen=True)
class ScorecardView:
    present: bool
    scale: tuple[float, float]
    areas: list[AreaView]
    weighted_total: float | None
    recommendation: str | None  # display label
    recommendation_key: str | None
    recommendation_reason: str | None
    confidence: float | None
    scorer: str  # who scored it, in words
    indicative: bool
    note: str | None
    review_count: int


def build_scorecard(evaluation: dict[str, Any], lines: list[TimedLine]) -> ScorecardView:
    scale_data = json_object(evaluation, "score_scale")
    scale = (_number(scale_data.get("minimum")) or 1.0, _number(scale_data.get("maximum")) or 10.0)
    areas_data = json_object(evaluation, "areas")
    areas = [_area(area_id, raw, lines) for area_id, raw in areas_data.items() if isinstance(raw, dict)]
    scorer_name = str(evaluation.get("scorer") or "unknown")
    indicative = bool(evaluation.get("indicative", scorer_name == "heuristic"))
    key = evaluation.get("recommendation") if isinstance(evaluation.get("recommendation"), str) else None
    return ScorecardView(
        present=bool(evaluation),
        scale=scale,
        areas=areas,
        weighted_total=_number(evaluation.get("weighted_total")),
        recommendation=RECOMMENDATION_LABELS.get(key, key) if key else None,
        recommendation_key=key,
        recommendation_reason=_text(evaluation.get("recommendation_reason")),
        confidence=_number(evaluation.get("confidence")),
        scorer=_scorer_label(scorer_name, _text(evaluation.get("model")), indicative),
        indicative=indicative,
        note=_text(evaluation.get("note")),
        review_count=sum(a.review for a in areas),
    )


def _scorer_label(name: str, model: str | None, indicative: bool) -> str:
    if name == "heuristic" or indicative:
        return "Offline heuristic (indicative only, not a verdict)"
    if name == "llm":
        return f"LLM judge: {model}" if model else "LLM judge"
    return f"{name}{f' ({model})' if model else ''}"


def _area(area_id: str, raw: dict[str, Any], lines: list[TimedLine]) -> AreaView:
    runs = [r for r in raw.get("runs", []) if isinstance(r, dict)]
    seen: set[str] = set()
    quotes: list[Quote] = []
    for run in runs:
        for text in run.get("evidence") or []:
            if isinstance(text, str) and text not in seen:
                seen.add(text)
                found = locate_quote(text, lines)
                quotes.append(Quote(text, found[1] if found else None, clock(found[1]) if found else ""))
    flags = [FLAG_LABELS.get(f, str(f)) for f in raw.get("flags") or [] if f != "needs_human_review"]
    rationale = next((str(r["rationale"]) for r in runs if r.get("rationale")), "")
    return AreaView(
        id=area_id,
        name=str(raw.get("name") or area_id),
        weight=_number(raw.get("weight")) or 0.0,
        score=_number(raw.get("score")),
        runs=[_number(r.get("score")) for r in runs],
        spread=_number(raw.get("spread")),
        review=bool(raw.get("needs_human_review")) or "needs_human_review" in (raw.get("flags") or []),
        flags=flags,
        reason=_text(raw.get("reason")),
        rationale=rationale,
        quotes=quotes,
    )


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None
