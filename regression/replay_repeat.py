"""`python -m regression replay --repeat K`: replay a record K times and call a regression only what most runs show.

Why: whether a turn ends at a pause close to its wait can depend on when the recogniser's words
arrive, and a machine's load moves that by hundreds of milliseconds; one replay can flag a cut-off
that most replays do not show, or miss one that most do. K runs give each answer's cut-off rate:
a new cut-off is a regression when it happens in more than half of the runs; the reply delay and
recognition thresholds apply to the median over the runs; an interview that ended early counts
when it did so in more than half of them.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from regression.replay_answers import Observation
from regression.replay_compare import AnswerComparison, SessionComparison, Thresholds

MAX_REPEAT = 5


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


@dataclass(frozen=True)
class RepeatedComparison:
    """The same record replayed ``len(runs)`` times (each run its own new record and comparison.json)."""

    runs: list[SessionComparison]

    @property
    def original(self) -> str:
        return self.runs[0].original

    @property
    def thresholds(self) -> Thresholds:
        return self.runs[0].thresholds

    @property
    def majority(self) -> int:
        return len(self.runs) // 2 + 1

    def now(self, index: int) -> list[Observation | None]:
        """Answer ``index`` (1-based) in each run (None: not played in that run)."""
        return [r.answers[index - 1].now for r in self.runs]

    def cut_off_now(self, index: int) -> int:
        """In how many runs answer ``index`` was cut off."""
        return sum(bool(now and now.cut_off) for now in self.now(index))

    def new_cut_off_runs(self, index: int) -> int:
        return sum(index in r.new_cut_offs for r in self.runs)

    @property
    def new_cut_offs(self) -> list[int]:
        """Answers cut off now, not then, in more than half of the runs."""
        return [a.index for a in self.runs[0].answers if self.new_cut_off_runs(a.index) >= self.majority]

    @property
    def reply_p50_then_ms(self) -> float | None:
        return _median([v for r in self.runs if (v := r.reply_p50_then_ms) is not None])

    @property
    def reply_p50_now_ms(self) -> float | None:
        return _median([v for r in self.runs if (v := r.reply_p50_now_ms) is not None])

    @property
    def slower_ms(self) -> float | None:
        return _median([v for r in self.runs if (v := r.slower_ms) is not None])

    @property
    def wer_points(self) -> float:
        return _median([r.wer_points for r in self.runs]) or 0.0

    @property
    def answers(self) -> list[AnswerComparison]:
        return self.runs[0].answers

    @property
    def played(self) -> list[AnswerComparison]:
        """The answers played in the median run (by how many were played)."""
        return sorted((r.played for r in self.runs), key=len)[len(self.runs) // 2]

    @property
    def regressions(self) -> list[str]:
        k = len(self.runs)
        found = [
            f"answer {i}: cut off now, not then, in {self.new_cut_off_runs(i)} of {k} runs" for i in self.new_cut_offs
        ]
        slower, limits = self.slower_ms, self.thresholds
        if slower is not None and slower > limits.max_slower_ms:
            found.append(
                f"reply p50 slower by {slower:.0f} ms, median of {k} runs (more than {limits.max_slower_ms:g})"
            )
        if self.wer_points > limits.max_wer_points:
            found.append(
                f"recognition differs by {self.wer_points:.1f} WER points, median of {k} runs "
                f"(more than {limits.max_wer_points:g})"
            )
        ended_early = sum(len(r.played) < len(r.answers) for r in self.runs)
        if ended_early >= self.majority:
            found.append(f"the interview ended before every answer was played in {ended_early} of {k} runs")
        return found


def render_repeated(repeated: RepeatedComparison) -> str:
    """Each answer's cut-off rate over the runs, the medians, and the verdict."""
    k = len(repeated.runs)
    rows = [("#", "cut then", f"cut now (of {k})", "reply ms then / now per run")]
    for a in repeated.answers:
        now_runs = repeated.cut_off_now(a.index)
        flag = " NEW" if a.index in repeated.new_cut_offs else ""
        delays = ",".join(_ms(now.reply_delay_ms if now else None) for now in repeated.now(a.index))
        rows.append(
            (
                str(a.index),
                "yes" if a.then.cut_off else "no",
                f"{now_runs}{flag}",
                f"{_ms(a.then.reply_delay_ms)} / {delays}",
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = [f"{repeated.original}: {k} runs"]
    lines += ["  ".join(r[i].ljust(widths[i]) for i in range(3)) + "  " + r[3] for r in rows]
    lines.append(
        f"reply p50 {_ms(repeated.reply_p50_then_ms)} → {_ms(repeated.reply_p50_now_ms)} ms (median of runs); "
        f"recognition now vs then {repeated.wer_points:.1f} WER points (median)"
    )
    regressions = repeated.regressions
    if regressions:
        lines.append("REGRESSION: " + "; ".join(regressions))
    else:
        minority = [
            f"answer {i} in {n} of {k}" for a in repeated.answers if (n := repeated.new_cut_off_runs(i := a.index))
        ]
        lines.append(
            "no regression" + (f" (new cut-offs in a minority of runs: {', '.join(minority)})" if minority else "")
        )
    return "\n".join(lines)
