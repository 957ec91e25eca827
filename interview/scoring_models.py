"""The data of rubric scoring: QA pairs, scorer runs, per-area results, the evaluation record.

Split from `interview.scoring` (the rules) so scorers can import the types without the rules;
`interview.scoring` re-exports everything here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from interview.config import InterviewConfig

FLAG_REVIEW = "needs_human_review"
FLAG_FABRICATED = "fabricated_evidence_dropped"
FLAG_SINGLE_RUN = "single_run"
FLAG_NO_EVIDENCE = "no_evidence"


@dataclass(frozen=True)
class QAPair:
    """One interviewer question and the candidate's whole answer to it."""

    question: str
    answer: str
    phase: str
    asked_at: float | None = None  # seconds since the session's evaluator started
    answered_at: float | None = None  # when the last words of the answer were transcribed
    rubric_areas: tuple[str, ...] = ()  # areas the question targets, when known

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "rubric_areas": list(self.rubric_areas)}


@dataclass(frozen=True)
class AreaJudgement:
    """What one scorer run says about one area (before the verbatim check)."""

    score: float | None
    evidence: tuple[str, ...] = ()
    rationale: str = ""


@dataclass(frozen=True)
class ScoringRun:
    """One independent run over the transcript. `overall` is the judge's own view, recorded only."""

    areas: Mapping[str, AreaJudgement]
    overall: Mapping[str, Any] | None = None


class ScoringError(Exception):
    """A run produced no usable result; `reason` ends up in evaluation.json."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Scorer(Protocol):
    """One scoring run over some QA pairs. Raise `ScoringError` when no usable result comes out."""

    @property
    def name(self) -> str: ...  # "heuristic" | "llm"
    @property
    def model(self) -> str | None: ...
    @property
    def note(self) -> str | None: ...  # shown in evaluation.json, e.g. "this is a heuristic"
    @property
    def confidence_ceiling(self) -> float: ...  # how far this scorer's verdicts can be trusted at best (0-1)

    # Optional `recommends: bool` (default True): False for scorers whose numbers are indicative only.

    async def evaluate(
        self, config: InterviewConfig, pairs: Sequence[QAPair], *, areas: Sequence[str] | None = None
    ) -> ScoringRun: ...


@dataclass
class RunResult:
    run: int
    score: float | None
    evidence: list[str] = field(default_factory=list)
    dropped_evidence: list[str] = field(default_factory=list)
    rationale: str = ""
    error: str | None = None


@dataclass
class AreaResult:
    id: str
    name: str
    weight: float
    runs: list[RunResult]
    score: float | None
    spread: float | None
    flags: list[str]
    reason: str | None  # why the score is null, or why the area is flagged

    @property
    def needs_human_review(self) -> bool:
        return FLAG_REVIEW in self.flags

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "needs_human_review": self.needs_human_review}


@dataclass(frozen=True)
class AnswerScore:
    """A per-answer score (in-session signal; the final evaluation re-reads the whole interview)."""

    area: str
    score: float | None
    evidence: tuple[str, ...]
    rationale: str
    phase: str
    pair_index: int | None = None
    flags: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "evidence": list(self.evidence), "flags": list(self.flags)}


@dataclass
class Evaluation:
    scorer: str
    model: str | None
    note: str | None
    scale: tuple[int, int]
    disagreement_tolerance: float
    areas: dict[str, AreaResult]
    weighted_total: float | None
    normalised_weights: dict[str, float]
    recommendation: str | None
    confidence: float
    missing_areas: dict[str, str]  # area id -> reason
    runs: list[dict[str, Any]]  # per run: ok, error, the judge's own overall view
    pairs: list[QAPair]
    answer_scores: list[AnswerScore] = field(default_factory=list)
    recommendation_reason: str | None = None  # why there is no (banded) recommendation
    indicative: bool = False  # the scorer's numbers are indicative only (the offline heuristic)
    interview_seconds: float | None = None
    created_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; the shape of evaluation.json."""
        return {
            "scorer": self.scorer,
            "model": self.model,
            "note": self.note,
            "created_at": self.created_at,
            "score_scale": {"minimum": self.scale[0], "maximum": self.scale[1]},
            "disagreement_tolerance": self.disagreement_tolerance,
            "areas": {area_id: area.to_dict() for area_id, area in self.areas.items()},
            "weighted_total": self.weighted_total,
            "normalised_weights": self.normalised_weights,
            "recommendation": self.recommendation,
            "recommendation_reason": self.recommendation_reason,
            "indicative": self.indicative,
            "interview_seconds": self.interview_seconds,
            "confidence": self.confidence,
            "missing_areas": [{"area": a, "reason": r} for a, r in self.missing_areas.items()],
            "needs_human_review": [a for a, area in self.areas.items() if area.needs_human_review],
            "runs": self.runs,
            "qa_pairs": [pair.to_dict() for pair in self.pairs],
            "answer_scores": [score.to_dict() for score in self.answer_scores],
        }
