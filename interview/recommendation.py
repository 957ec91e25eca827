"""Whether an evaluation may carry a hire recommendation, and why not when it may not.

Why a policy of its own: a weighted total is always computable from whatever was scored, but
a recommendation is a claim about the candidate. It needs the whole rubric covered by
evidence and an interview long enough to have asked the questions, and a scorer that can
judge content. The offline heuristic cannot: its scores are indicative only, so it abstains.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from interview.config import InterviewConfig
from interview.scoring_models import FLAG_NO_EVIDENCE, AreaResult

INSUFFICIENT_EVIDENCE = "insufficient_evidence"
MIN_INTERVIEW_SECONDS = 120.0  # an interview that ended sooner did not get past its opening
MIN_INTERVIEW_FRACTION = 0.25  # ...or a quarter of its planned length, for very short interviews
HEURISTIC_ABSTAINS = (
    "No recommendation: the offline heuristic scorer's numbers are indicative only (wording compared "
    "with the rubric anchors), not a judgement of the answers. A person must review the evidence."
)


@dataclass(frozen=True)
class RecommendationGate:
    """The outcome of the policy: `allowed` or a label that replaces it, with the reason."""

    allowed: bool
    label: str | None  # None: keep the banded recommendation (when allowed) or show none
    reason: str | None


def minimum_interview_seconds(config: InterviewConfig) -> float:
    return min(MIN_INTERVIEW_SECONDS, MIN_INTERVIEW_FRACTION * config.duration_minutes * 60)


def gate_recommendation(
    config: InterviewConfig,
    areas: Mapping[str, AreaResult],
    *,
    scorer_recommends: bool,
    interview_seconds: float | None,
    answers: int,
) -> RecommendationGate:
    """Coverage first (whatever the scorer), then whether the scorer may recommend at all."""
    gaps: list[str] = []
    if interview_seconds is not None and interview_seconds < minimum_interview_seconds(config):
        gaps.append(
            f"the interview ended after {interview_seconds:.0f} s, before "
            f"{minimum_interview_seconds(config):.0f} s of a planned {config.duration_minutes:g} min"
        )
    if not answers:
        gaps.append("the candidate gave no answers")
    unscored = [area for area in areas.values() if area.score is None]
    no_evidence = [area.name for area in unscored if FLAG_NO_EVIDENCE in area.flags]
    if no_evidence:
        gaps.append(f"no answer gave evidence for {', '.join(no_evidence)}")
    failed = [area.name for area in unscored if FLAG_NO_EVIDENCE not in area.flags]
    if failed and answers and len(failed) < len(areas):
        gaps.append(f"{', '.join(failed)} could not be scored")
    if gaps:
        return RecommendationGate(False, INSUFFICIENT_EVIDENCE, "Insufficient evidence: " + "; ".join(gaps) + ".")
    if unscored:  # every area failed to score: a scoring failure, not a finding about the candidate
        return RecommendationGate(False, None, "No area could be scored, so there is nothing to recommend on.")
    if not scorer_recommends:
        return RecommendationGate(False, None, HEURISTIC_ABSTAINS)
    return RecommendationGate(True, None, None)
