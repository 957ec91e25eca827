"""Rubric scoring of an interview: QA pairs in, an auditable evaluation out (no Pipecat here).

Why this exists: a single LLM verdict is neither reproducible nor checkable. Here every rubric
area is scored by two independent runs of a `Scorer`; runs that disagree by more than the
config's tolerance are flagged for a human; evidence quotes must occur verbatim in the
candidate's answers (invented quotes are dropped and flagged); an area without evidence gets
no score rather than a guess; the weighted total and recommendation are computed here, from
the rubric weights, not taken from the judge, and `interview.recommendation` withholds the
recommendation when the interview did not cover enough or the scorer cannot judge content. Failures never lose the result: areas that
could not be scored are listed with the reason.

Scorers: `interview.heuristic_scorer.HeuristicScorer` (offline, deterministic) and
`services.scorers.LLMScorer` (OpenAI-compatible judge); `services.scorers.create_scorer` picks.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence

from interview.config import InterviewConfig, InterviewType
from interview.prompts import RECOMMENDATIONS
from interview.recommendation import gate_recommendation
from interview.scoring_models import (
    FLAG_FABRICATED,
    FLAG_NO_EVIDENCE,
    FLAG_REVIEW,
    FLAG_SINGLE_RUN,
    AnswerScore,
    AreaJudgement,
    AreaResult,
    Evaluation,
    QAPair,
    RunResult,
    Scorer,
    ScoringError,
    ScoringRun,
)
from interview.text_similarity import containment, occurs_verbatim

__all__ = [
    "FLAG_FABRICATED", "FLAG_NO_EVIDENCE", "FLAG_REVIEW", "FLAG_SINGLE_RUN", "AnswerScore", "AreaJudgement",
    "AreaResult", "Evaluation", "QAPair", "RunResult", "Scorer", "ScoringError", "ScoringRun", "evaluate_interview",
    "failed_evaluation", "format_transcript", "question_targets", "recommendation_for", "score_answer",
]  # fmt: skip

RUNS_PER_EVALUATION = 2
QUESTION_MATCH_THRESHOLD = 0.6
# Position of the weighted total on the scale (0 = minimum, 1 = maximum) -> recommendation.
RECOMMENDATION_BANDS: tuple[tuple[float, str], ...] = (
    (0.8, "strong_yes"),
    (0.6, "yes"),
    (0.4, "maybe"),
    (0.2, "no"),
    (0.0, "strong_no"),
)


# --- helpers used by the evaluator processor -----------------------------------------------


def question_targets(config: InterviewConfig, phase_id: str, question: str) -> tuple[str, ...]:
    """Rubric areas of the planned question (or its follow-up) that the spoken question matches.

    The spoken question is paraphrased and wrapped in small talk, so we ask how much of the
    planned wording it contains; the current phase is searched first.
    """
    best: tuple[str, ...] = ()
    best_score = 0.0
    for phase in sorted(config.phases, key=lambda p: p.id != phase_id):
        for planned in phase.questions:
            for text in (planned.text, planned.follow_up):
                score = containment(text, question) if text else 0.0
                if score > best_score:
                    best, best_score = tuple(planned.rubric_areas), score
    return best if best_score >= QUESTION_MATCH_THRESHOLD else ()


def person_label(config: InterviewConfig) -> str:
    return "Participant" if config.interview_type == InterviewType.qualitative_research else "Candidate"


def format_transcript(config: InterviewConfig, pairs: Sequence[QAPair]) -> str:
    """The transcript as the judge sees it: one line per turn, tagged with the phase."""
    person = person_label(config)
    lines: list[str] = []
    for pair in pairs:
        if pair.question.strip():
            lines.append(f"[{pair.phase}] Interviewer: {pair.question.strip()}")
        lines.append(f"[{pair.phase}] {person}: {pair.answer.strip()}")
    return "\n".join(lines)


def _check(judgement: AreaJudgement, answers: Sequence[str], scale: tuple[int, int]) -> RunResult:
    """Apply the evidence rules to one judgement: verbatim quotes only, no evidence -> no score."""
    kept = [q for q in judgement.evidence if occurs_verbatim(q, answers)]
    dropped = [q for q in judgement.evidence if q not in kept]
    result = RunResult(
        run=0, score=judgement.score, evidence=kept, dropped_evidence=dropped, rationale=judgement.rationale
    )
    if result.score is not None and not scale[0] <= result.score <= scale[1]:
        result.error = f"score {result.score:g} is outside the scale {scale[0]}..{scale[1]}"
        result.score = None
    elif result.score is not None and not kept:
        result.error = "no verbatim evidence in the candidate's answers" + (
            f" ({len(dropped)} quote(s) not found)" if dropped else ""
        )
        result.score = None
    return result


async def score_answer(
    pair: QAPair, config: InterviewConfig, scorer: Scorer, *, index: int | None = None
) -> list[AnswerScore]:
    """Score one answer for the areas its question targets (all areas when unknown).

    Raises `ScoringError` when the scorer gives up; the caller decides what to log.
    """
    area_ids = [a for a in pair.rubric_areas if a in config.rubric_area_ids] or config.rubric_area_ids
    if not pair.answer.strip() or not area_ids:
        return []
    run = await scorer.evaluate(config, [pair], areas=area_ids)
    scale = (config.score_scale.minimum, config.score_scale.maximum)
    out: list[AnswerScore] = []
    for area_id in area_ids:
        judgement = run.areas.get(area_id, AreaJudgement(None, (), "no result for this area"))
        checked = _check(judgement, [pair.answer], scale)
        flags = (FLAG_FABRICATED,) if checked.dropped_evidence else ()
        rationale = checked.error or checked.rationale
        out.append(AnswerScore(area_id, checked.score, tuple(checked.evidence), rationale, pair.phase, index, flags))
    return out


# --- the whole-interview evaluation ----------------------------------------------------------


async def evaluate_interview(
    config: InterviewConfig,
    pairs: Sequence[QAPair],
    scorer: Scorer,
    *,
    runs: int = RUNS_PER_EVALUATION,
    semaphore: asyncio.Semaphore | None = None,
    interview_seconds: float | None = None,
) -> Evaluation:
    """Score every rubric area `runs` times, check evidence, aggregate. Never raises for scorer failures.

    `interview_seconds` (how long the session ran) lets the recommendation policy refuse an
    interview that ended in its opening minutes.
    """
    answers = [p.answer for p in pairs if p.answer.strip()]
    outcomes: list[ScoringRun | str]
    if not answers:
        outcomes = ["no candidate answers were recorded"] * runs
    else:
        gate = semaphore or asyncio.Semaphore(config.evaluation.max_concurrency)
        outcomes = list(await asyncio.gather(*(_one_run(scorer, config, pairs, gate) for _ in range(runs))))
    scale = (config.score_scale.minimum, config.score_scale.maximum)
    areas = {area.id: _aggregate_area(config, area.id, outcomes, answers, scale) for area in config.rubric}
    return _summarise(config, scorer, areas, outcomes, list(pairs), interview_seconds)


async def _one_run(
    scorer: Scorer, config: InterviewConfig, pairs: Sequence[QAPair], gate: asyncio.Semaphore
) -> ScoringRun | str:
    async with gate:
        try:
            return await scorer.evaluate(config, pairs)
        except ScoringError as exc:
            return exc.reason
        except Exception as exc:  # a broken scorer must not lose the evaluation
            return f"scorer error: {type(exc).__name__}: {exc}"


def _aggregate_area(
    config: InterviewConfig,
    area_id: str,
    outcomes: Sequence[ScoringRun | str],
    answers: Sequence[str],
    scale: tuple[int, int],
) -> AreaResult:
    area = next(a for a in config.rubric if a.id == area_id)
    results: list[RunResult] = []
    for number, outcome in enumerate(outcomes, start=1):
        if isinstance(outcome, str):
            result = RunResult(run=number, score=None, error=outcome)
        elif area_id not in outcome.areas:
            result = RunResult(run=number, score=None, error="the run returned no result for this area")
        else:
            result = _check(outcome.areas[area_id], answers, scale)
            result.run = number
        results.append(result)

    scores = [r.score for r in results if r.score is not None]
    flags: list[str] = [FLAG_FABRICATED] if any(r.dropped_evidence for r in results) else []
    reason: str | None = None
    score: float | None = None
    spread: float | None = None
    tolerance = config.disagreement_tolerance
    if not scores:
        failed = [r for r in results if r.error and not r.error.startswith("no verbatim evidence")]
        if any(isinstance(o, ScoringRun) for o in outcomes) and len(failed) < len(results):
            flags.append(FLAG_NO_EVIDENCE)
            reason = "no evidence in the candidate's answers: " + _run_reasons(results, use_rationale=True)
        else:
            reason = "scoring failed: " + _run_reasons(results)
    elif len(scores) == 1:
        score = scores[0]
        flags += [FLAG_SINGLE_RUN, FLAG_REVIEW]
        reason = f"only 1 of {len(results)} runs produced a score, so agreement is unchecked: " + _run_reasons(
            [r for r in results if r.score is None]
        )
    else:
        score = round(sum(scores) / len(scores), 2)
        spread = round(max(scores) - min(scores), 2)
        if spread > tolerance:
            flags.append(FLAG_REVIEW)
            reason = (
                f"runs disagree: scores {', '.join(f'{s:g}' for s in scores)} differ by {spread:g} (> {tolerance:g})"
            )
    if FLAG_FABRICATED in flags:
        note = "quotes not found verbatim in the answers were dropped"
        reason = f"{reason}; {note}" if reason else note
    return AreaResult(area.id, area.name, area.weight, results, score, spread, flags, reason)


def _run_reasons(results: Sequence[RunResult], use_rationale: bool = False) -> str:
    parts = []
    for r in results:
        text = r.error or ""
        if use_rationale and r.rationale:
            text = f"{text} ({r.rationale})" if text else r.rationale
        parts.append(f"run {r.run}: {text or 'no score'}")
    return "; ".join(parts)


def recommendation_for(position: float) -> str:
    """Map the weighted total's position on the scale (0..1) to a recommendation."""
    for threshold, label in RECOMMENDATION_BANDS:
        if position >= threshold:
            return label
    return RECOMMENDATION_BANDS[-1][1]


def _summarise(
    config: InterviewConfig,
    scorer: Scorer,
    areas: dict[str, AreaResult],
    outcomes: Sequence[ScoringRun | str],
    pairs: list[QAPair],
    interview_seconds: float | None = None,
) -> Evaluation:
    lo, hi = config.score_scale.minimum, config.score_scale.maximum
    scored = {a.id: a for a in areas.values() if a.score is not None}
    scored_weight = sum(a.weight for a in scored.values())
    total_weight = sum(a.weight for a in areas.values()) or 1.0
    weights = {a_id: round(a.weight / scored_weight, 4) for a_id, a in scored.items()} if scored else {}
    weighted_total: float | None = None
    recommendation: str | None = None
    confidence = 0.0
    if scored:
        weighted_total = round(
            sum(a.weight * a.score for a in scored.values() if a.score is not None) / scored_weight, 2
        )
        recommendation = recommendation_for((weighted_total - lo) / (hi - lo))
        reliability = sum(weights[a_id] * _reliability(a, hi - lo) for a_id, a in scored.items())
        ceiling = getattr(scorer, "confidence_ceiling", 1.0)
        confidence = round(ceiling * (scored_weight / total_weight) * reliability, 2)
    elif not config.rubric:
        recommendation = _judge_majority(outcomes)
        confidence = 0.3 if recommendation else 0.0
    recommends = bool(getattr(scorer, "recommends", True))
    gate = gate_recommendation(
        config,
        areas,
        scorer_recommends=recommends,
        interview_seconds=interview_seconds,
        answers=sum(bool(p.answer.strip()) for p in pairs),
    )
    if config.rubric and not gate.allowed:
        recommendation = gate.label
    run_records = [
        {"run": i, "ok": not isinstance(o, str), "error": o if isinstance(o, str) else None,
         "overall": None if isinstance(o, str) else (dict(o.overall) if o.overall else None)}
        for i, o in enumerate(outcomes, start=1)
    ]  # fmt: skip
    missing = {a.id: a.reason or "no score" for a in areas.values() if a.score is None}
    return Evaluation(
        scorer=getattr(scorer, "name", type(scorer).__name__),
        model=getattr(scorer, "model", None),
        note=getattr(scorer, "note", None),
        scale=(lo, hi),
        disagreement_tolerance=config.disagreement_tolerance,
        areas=areas,
        weighted_total=weighted_total,
        normalised_weights=weights,
        recommendation=recommendation,
        recommendation_reason=gate.reason if config.rubric else None,
        indicative=not recommends,
        interview_seconds=interview_seconds,
        confidence=confidence,
        missing_areas=missing,
        runs=run_records,
        pairs=pairs,
    )


def _reliability(area: AreaResult, span: int) -> float:
    """1.0 for two agreeing runs with clean evidence; lower for spread, a single run or dropped quotes."""
    value = 1.0 - (area.spread or 0.0) / span
    if FLAG_SINGLE_RUN in area.flags:
        value *= 0.6
    elif FLAG_REVIEW in area.flags:
        value *= 0.7
    if FLAG_FABRICATED in area.flags:
        value *= 0.8
    return value


def _judge_majority(outcomes: Sequence[ScoringRun | str]) -> str | None:
    votes = Counter(
        str(o.overall.get("recommendation"))
        for o in outcomes
        if isinstance(o, ScoringRun) and o.overall and o.overall.get("recommendation") in RECOMMENDATIONS
    )
    return votes.most_common(1)[0][0] if votes else None


def failed_evaluation(
    config: InterviewConfig,
    scorer: Scorer,
    reason: str,
    pairs: Sequence[QAPair],
    interview_seconds: float | None = None,
) -> Evaluation:
    """An evaluation where nothing could be scored (timeout, crash): every area missing with `reason`."""
    outcomes: list[ScoringRun | str] = [reason]
    scale = (config.score_scale.minimum, config.score_scale.maximum)
    areas = {a.id: _aggregate_area(config, a.id, outcomes, [], scale) for a in config.rubric}
    return _summarise(config, scorer, areas, outcomes, list(pairs), interview_seconds)
