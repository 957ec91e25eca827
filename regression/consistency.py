"""Scoring consistency: evaluate each session record K times with the configured judge and measure the spread.

Why (issue #34, item 3): an LLM judge is not deterministic, and a scorecard is only worth what a
second reading of the same transcript would say. People who run interviews in production evaluate
the same transcripts several times and look into every rubric area whose scores spread by more
than half a point (standard deviation). This does that over session records:

* each of the K evaluations is the session's own final evaluation, unchanged
  (`interview.scoring.evaluate_interview` with the scorer `services.scorers.create_scorer` picks
  for the record's config): the same prompt, its two independent judge runs, the verbatim-evidence
  rules, the weighted total and the recommendation gate;
* per session and rubric area: the mean and the sample standard deviation (σ) of the area's score
  over the evaluations that produced one, flagged when σ > `CONSISTENCY_MAX_SIGMA`; the same for
  the weighted total; and how often the evaluation's two runs disagreed by more than the
  interview's `disagreement_tolerance` (the evaluator's own needs-human-review check).

Bounded: at most `MAX_RUNS` evaluations per session and `MAX_SESSIONS` records a command; each
judge run has a deadline (a late one counts as a failed run, as in a session). Evaluations of
one session run one after another, sessions too, so a rate-limited endpoint sees at most the
evaluator's two runs at once.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from interview.config import InterviewConfig
from interview.scoring import Evaluation, QAPair, Scorer, ScoringError, ScoringRun, evaluate_interview
from regression.records import SessionInput

DEFAULT_RUNS = 5
MAX_RUNS = 50
MAX_SESSIONS = 100
DEFAULT_RUN_TIMEOUT = 120.0  # seconds for one judge run, its parse retries included
MAX_RUN_TIMEOUT = 600.0
TOTAL_ROW = "weighted total"


@dataclass
class Spread:
    """One row: an area's (or the weighted total's) score in each of the evaluations."""

    name: str
    scores: list[float]  # from the evaluations that produced a score
    evaluations: int
    max_sigma: float
    compared: int = 0  # evaluations where both judge runs scored the area
    disagreed: int = 0  # ... and differed by more than the tolerance

    @property
    def mean(self) -> float | None:
        return round(statistics.fmean(self.scores), 2) if self.scores else None

    @property
    def sigma(self) -> float | None:
        """Sample standard deviation; None with fewer than two scores."""
        return round(statistics.stdev(self.scores), 2) if len(self.scores) >= 2 else None

    @property
    def flagged(self) -> bool:
        return self.sigma is not None and self.sigma > self.max_sigma

    def to_dict(self) -> dict[str, Any]:
        return {
            "scored": len(self.scores), "evaluations": self.evaluations, "scores": self.scores, "mean": self.mean,
            "sigma": self.sigma, "min": min(self.scores, default=None), "max": max(self.scores, default=None),
            "flagged": self.flagged, "runs_compared": self.compared, "runs_disagreed": self.disagreed,
        }  # fmt: skip


@dataclass
class SessionConsistency:
    """The K evaluations of one record, summarised."""

    session: str
    scorer: str
    model: str | None
    answers: int
    tolerance: float
    evaluations: int
    areas: list[Spread]
    total: Spread
    recommendations: Counter[str] = field(default_factory=Counter)
    judge_runs: int = 0
    failed_runs: list[str] = field(default_factory=list)  # each failed judge run's reason

    @property
    def rows(self) -> list[Spread]:
        return [*self.areas, self.total]

    def to_dict(self) -> dict[str, Any]:
        return {
            "session": self.session, "scorer": self.scorer, "model": self.model, "answers": self.answers,
            "evaluations": self.evaluations, "disagreement_tolerance": self.tolerance,
            "areas": {a.name: a.to_dict() for a in self.areas}, "weighted_total": self.total.to_dict(),
            "recommendations": dict(self.recommendations), "judge_runs": self.judge_runs,
            "failed_judge_runs": len(self.failed_runs), "first_failure": next(iter(self.failed_runs), None),
        }  # fmt: skip


def summarise(
    session: str, config: InterviewConfig, evaluations: Sequence[Evaluation], *, answers: int, max_sigma: float
) -> SessionConsistency:
    """Per area and for the weighted total: the scores over `evaluations`, their spread and the runs' disagreements."""
    first = evaluations[0]
    areas: list[Spread] = []
    for area in config.rubric:
        row = Spread(area.id, [], len(evaluations), max_sigma)
        for evaluation in evaluations:
            result = evaluation.areas[area.id]
            if result.score is not None:
                row.scores.append(result.score)
            if result.spread is not None:  # two runs scored it: the evaluator's agreement check applies
                row.compared += 1
                row.disagreed += result.spread > evaluation.disagreement_tolerance
        areas.append(row)
    totals = [e.weighted_total for e in evaluations if e.weighted_total is not None]
    runs = [run for e in evaluations for run in e.runs]
    return SessionConsistency(
        session=session,
        scorer=first.scorer,
        model=first.model,
        answers=answers,
        tolerance=first.disagreement_tolerance,
        evaluations=len(evaluations),
        areas=areas,
        total=Spread(TOTAL_ROW, totals, len(evaluations), max_sigma),
        recommendations=Counter(e.recommendation or "none" for e in evaluations),
        judge_runs=len(runs),
        failed_runs=[str(run.get("error")) for run in runs if not run.get("ok")],
    )


class BoundedScorer:
    """The configured scorer with a deadline on each run: a run that is late fails (`ScoringError`), as any failure."""

    def __init__(self, inner: Scorer, timeout: float) -> None:
        self.inner = inner
        self.timeout = timeout

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def model(self) -> str | None:
        return self.inner.model

    @property
    def note(self) -> str | None:
        return self.inner.note

    @property
    def confidence_ceiling(self) -> float:
        return self.inner.confidence_ceiling

    @property
    def recommends(self) -> bool:
        return bool(getattr(self.inner, "recommends", True))

    async def evaluate(
        self, config: InterviewConfig, pairs: Sequence[QAPair], *, areas: Sequence[str] | None = None
    ) -> ScoringRun:
        try:
            return await asyncio.wait_for(self.inner.evaluate(config, pairs, areas=areas), self.timeout)
        except TimeoutError:
            raise ScoringError(f"the judge run did not finish within {self.timeout:g}s") from None


async def measure(
    session: SessionInput,
    scorer: Scorer,
    *,
    runs: int,
    max_sigma: float,
    progress: Callable[[str], None] = lambda _line: None,
) -> SessionConsistency:
    """`runs` evaluations of one record, one after another, summarised."""
    evaluations: list[Evaluation] = []
    for k in range(1, runs + 1):
        started = time.monotonic()
        evaluation = await evaluate_interview(
            session.config, session.pairs, scorer, interview_seconds=session.interview_seconds
        )
        evaluations.append(evaluation)
        failed = sum(1 for run in evaluation.runs if not run["ok"])
        note = f", {failed} judge run(s) failed" if failed else ""
        progress(f"{session.name}: evaluation {k}/{runs} in {time.monotonic() - started:.1f} s{note}")
    return summarise(session.name, session.config, evaluations, answers=session.answers, max_sigma=max_sigma)


# --- output --------------------------------------------------------------------------------------------


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def render(results: Sequence[SessionConsistency], *, runs: int, max_sigma: float) -> str:
    """The readable table: a block per session, a row per rubric area and the weighted total, then a summary."""
    out = [
        f"Scoring consistency: {runs} evaluations per session record, each the evaluator's own two judge runs; "
        f"flagged: σ > {max_sigma:g} (CONSISTENCY_MAX_SIGMA)."
    ]
    width = max([len(TOTAL_ROW), *(len(a.name) for r in results for a in r.areas)])
    for result in results:
        model = f" {result.model}" if result.model else ""
        out += [
            "",
            f"session {result.session}  judge {result.scorer}{model}  {result.answers} answers  "
            f"runs disagree when more than {result.tolerance:g} apart",
            f"  {'area':<{width}}  scored  {'mean':>5}  {'σ':>5}  {'min':>5}  {'max':>5}  runs disagreed  flag",
        ]
        for row in result.rows:
            disagreed = f"{row.disagreed}/{row.compared}" if row.name != TOTAL_ROW else "-"
            out.append(
                f"  {row.name:<{width}}  {len(row.scores):>2}/{row.evaluations:<3}  {_number(row.mean):>5}  "
                f"{_number(row.sigma):>5}  {_number(min(row.scores, default=None)):>5}  "
                f"{_number(max(row.scores, default=None)):>5}  {disagreed:>14}  "
                f"{f'σ > {max_sigma:g}' if row.flagged else ''}".rstrip()
            )
        recommendations = ", ".join(f"{label} {n}" for label, n in result.recommendations.most_common())
        failed = f"{len(result.failed_runs)}/{result.judge_runs}"
        first = f" (first: {result.failed_runs[0]})" if result.failed_runs else ""
        out.append(f"  recommendations: {recommendations}; judge runs failed: {failed}{first}")
    out += ["", summary_line(results)]
    return "\n".join(out)


def summary_line(results: Sequence[SessionConsistency]) -> str:
    rows = [row for r in results for row in r.rows]
    flagged = [f"{r.session}/{row.name}" for r in results for row in r.rows if row.flagged]
    compared = sum(a.compared for r in results for a in r.areas)
    disagreed = sum(a.disagreed for r in results for a in r.areas)
    share = f" ({100 * disagreed / compared:.0f} %)" if compared else ""
    judge_runs = sum(r.judge_runs for r in results)
    failed = sum(len(r.failed_runs) for r in results)
    named = f": {', '.join(flagged)}" if flagged else ""
    return (
        f"Summary: {len(results)} session(s), {sum(r.evaluations for r in results)} evaluations, {judge_runs} judge "
        f"runs ({failed} failed); {len(flagged)} of {len(rows)} rows flagged{named}; the two runs disagreed beyond "
        f"tolerance in {disagreed} of {compared} area evaluations{share}."
    )


def exit_status(results: Sequence[SessionConsistency]) -> int:
    """0: every row within σ; 1: a row flagged, or the judge failed every run of a session."""
    unstable = any(row.flagged for r in results for row in r.rows)
    dead = any(r.judge_runs and len(r.failed_runs) == r.judge_runs for r in results)
    return 1 if unstable or dead else 0
