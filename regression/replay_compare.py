"""Then against now, answer by answer: the comparison a replay writes (comparison.json) and prints.

Thresholds (each a flag of `python -m regression replay`): any answer cut off now that was not cut
off then; the median reply delay slower by more than `max_slower_ms`; recognition differing by more
than `max_wer_points`. There is no reference text for a real candidate, so "recognition worse" is the
word error rate of what the recogniser heard now against what it heard then, over the whole session
(0 = the same words). An interview that ended before every recorded answer was played is a regression too.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from regression.replay_answers import Observation
from scripts.word_accuracy import word_errors

DEFAULT_MAX_SLOWER_MS = 300.0
DEFAULT_MAX_WER_POINTS = 10.0


@dataclass(frozen=True)
class Thresholds:
    max_slower_ms: float = DEFAULT_MAX_SLOWER_MS
    max_wer_points: float = DEFAULT_MAX_WER_POINTS


@dataclass(frozen=True)
class AnswerComparison:
    index: int
    then: Observation
    now: Observation | None  # None: never played (the interview ended first)

    @property
    def new_cut_off(self) -> bool:
        return self.now is not None and self.now.cut_off and not self.then.cut_off

    @property
    def word_errors(self) -> tuple[int, int]:
        """(errors, words heard then) of what was heard now against then."""
        return word_errors(self.then.heard, self.now.heard if self.now is not None else "")

    @property
    def wer_points(self) -> float:
        errors, words = self.word_errors
        return round(100.0 * errors / max(words, 1), 1)

    @property
    def delay_change_ms(self) -> float | None:
        if self.now is None or self.now.reply_delay_ms is None or self.then.reply_delay_ms is None:
            return None
        return round(self.now.reply_delay_ms - self.then.reply_delay_ms, 1)

    @property
    def actions_differ(self) -> bool:
        return self.now is not None and (self.now.tools, self.now.phase_moves) != (
            self.then.tools,
            self.then.phase_moves,
        )

    def to_dict(self) -> dict[str, Any]:
        return {"answer": self.index, "then": self.then.to_dict(), "now": self.now.to_dict() if self.now else None,
                "new_cut_off": self.new_cut_off, "reply_delay_change_ms": self.delay_change_ms,
                "wer_points": self.wer_points, "actions_differ": self.actions_differ}  # fmt: skip


def _p50(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


@dataclass(frozen=True)
class SessionComparison:
    original: str  # the original record folder
    replay: str  # the new record folder
    answers: list[AnswerComparison]
    thresholds: Thresholds = field(default_factory=Thresholds)

    @property
    def played(self) -> list[AnswerComparison]:
        return [a for a in self.answers if a.now is not None]

    def _paired_delays(self) -> tuple[list[float], list[float]]:
        """Delays of the answers replied to both times (a reply missing on one side would skew the median)."""
        pairs = [(a.then.reply_delay_ms, a.now.reply_delay_ms) for a in self.played if a.now is not None]
        kept = [(t, n) for t, n in pairs if t is not None and n is not None]
        return [t for t, _ in kept], [n for _, n in kept]

    @property
    def reply_p50_then_ms(self) -> float | None:
        return _p50(self._paired_delays()[0])

    @property
    def reply_p50_now_ms(self) -> float | None:
        return _p50(self._paired_delays()[1])

    @property
    def slower_ms(self) -> float | None:
        then, now = self.reply_p50_then_ms, self.reply_p50_now_ms
        return None if then is None or now is None else round(now - then, 1)

    @property
    def wer_points(self) -> float:
        """What was heard now against then, over every answer played."""
        errors = words = 0
        for answer in self.played:
            e, n = answer.word_errors
            errors, words = errors + e, words + n
        return round(100.0 * errors / max(words, 1), 1)

    @property
    def new_cut_offs(self) -> list[int]:
        return [a.index for a in self.answers if a.new_cut_off]

    @property
    def regressions(self) -> list[str]:
        found = [f"answer {i}: cut off now, not then" for i in self.new_cut_offs]
        if self.slower_ms is not None and self.slower_ms > self.thresholds.max_slower_ms:
            found.append(f"reply p50 slower by {self.slower_ms:.0f} ms (more than {self.thresholds.max_slower_ms:g})")
        if self.played and self.wer_points > self.thresholds.max_wer_points:
            found.append(
                f"recognition differs by {self.wer_points:.1f} WER points (more than {self.thresholds.max_wer_points:g})"
            )
        if len(self.played) < len(self.answers):
            found.append(f"the interview ended after {len(self.played)} of {len(self.answers)} answers")
        return found

    def to_dict(self) -> dict[str, Any]:
        return {
            "original": self.original,
            "replay": self.replay,
            "thresholds": {
                "max_slower_ms": self.thresholds.max_slower_ms,
                "max_wer_points": self.thresholds.max_wer_points,
            },
            "summary": {
                "answers": len(self.answers),
                "played": len(self.played),
                "cut_offs_then": sum(a.then.cut_off for a in self.answers),
                "cut_offs_now": sum(bool(a.now and a.now.cut_off) for a in self.answers),
                "new_cut_offs": self.new_cut_offs,
                "reply_p50_then_ms": self.reply_p50_then_ms,
                "reply_p50_now_ms": self.reply_p50_now_ms,
                "slower_ms": self.slower_ms,
                "wer_points": self.wer_points,
                "actions_differ": [a.index for a in self.answers if a.actions_differ],
            },
            "regressions": self.regressions,
            "answers": [a.to_dict() for a in self.answers],
        }


def compare(
    original: str, replay: str, then: list[Observation], now: list[Observation], thresholds: Thresholds
) -> SessionComparison:
    answers = [AnswerComparison(i, t, now[i - 1] if i <= len(now) else None) for i, t in enumerate(then, start=1)]
    return SessionComparison(original, replay, answers, thresholds)


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def _actions(observation: Observation | None) -> str:
    if observation is None:
        return "-"
    return ",".join([*observation.tools, *observation.phase_moves]) or "·"


def render(comparison: SessionComparison) -> str:
    """The per-answer table and the verdict, as printed."""
    rows = [("#", "cut then/now", "reply ms then/now", "WER", "tools & phase moves then | now")]
    for a in comparison.answers:
        now = a.now
        cut = f"{'yes' if a.then.cut_off else 'no'}/{'-' if now is None else 'yes' if now.cut_off else 'no'}"
        cut += " NEW" if a.new_cut_off else ""
        delay = f"{_ms(a.then.reply_delay_ms)}/{_ms(now.reply_delay_ms if now else None)}"
        wer = f"{a.wer_points:.0f}%" if now is not None else "-"
        actions = _actions(a.then) + (" | =" if not a.actions_differ and now else f" | {_actions(now)}")
        rows.append((str(a.index), cut, delay, wer, actions))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = ["  ".join(r[i].ljust(widths[i]) for i in range(4)) + "  " + r[4] for r in rows]
    lines.append(
        f"reply p50 {_ms(comparison.reply_p50_then_ms)} → {_ms(comparison.reply_p50_now_ms)} ms; "
        f"recognition now vs then {comparison.wer_points:.1f} WER points; "
        f"cut-offs {sum(a.then.cut_off for a in comparison.answers)} → "
        f"{sum(bool(a.now and a.now.cut_off) for a in comparison.answers)}"
    )
    regressions = comparison.regressions
    lines.append("REGRESSION: " + "; ".join(regressions) if regressions else "no regression")
    return "\n".join(lines)


class ComparisonSummary(Protocol):
    """What a suite row needs: one replay (`SessionComparison`) or several of one record (`RepeatedComparison`)."""

    @property
    def original(self) -> str: ...
    @property
    def answers(self) -> list[AnswerComparison]: ...
    @property
    def played(self) -> list[AnswerComparison]: ...
    @property
    def new_cut_offs(self) -> list[int]: ...
    @property
    def reply_p50_then_ms(self) -> float | None: ...
    @property
    def reply_p50_now_ms(self) -> float | None: ...
    @property
    def wer_points(self) -> float: ...
    @property
    def regressions(self) -> list[str]: ...


def render_suite(comparisons: Sequence[ComparisonSummary]) -> str:
    """One row per replayed session."""
    rows = [("session", "answers", "new cut-offs", "reply p50 then→now", "WER", "verdict")]
    for c in comparisons:
        rows.append((
            c.original.rstrip("/").rsplit("/", 1)[-1],
            f"{len(c.played)}/{len(c.answers)}",
            str(len(c.new_cut_offs)),
            f"{_ms(c.reply_p50_then_ms)}→{_ms(c.reply_p50_now_ms)} ms",
            f"{c.wer_points:.1f}",
            "REGRESSION" if c.regressions else "ok",
        ))  # fmt: skip
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows)
