"""Rubric evaluator: the transcript's lines become phase-tagged QA pairs, scored as they complete.

What Pipecat lacks: it has no rubric scoring at all, and its aggregator events
(`on_user_turn_stopped`, `on_assistant_turn_stopped`) give turns, not question/answer pairs
tagged with the interview phase and the rubric areas the question targets. This module adds
that, from the very lines the session writes to transcript.jsonl (`interview/transcript_lines.py`,
fed by those two aggregator events), so the transcript is assembled once:

* an interviewer line is what the candidate heard (the assistant aggregator sits after the
  output); a sentence the candidate talked over is kept without its cut note;
* a candidate line is a whole answer: consecutive transcripts of one turn, and an answer the
  candidate went on with after the reply began, arrive as one line (the cut reply is no line);
* a pair is (the interviewer lines since the last answer, the answer) and is complete when the
  answer's line is written — when the next line starts, or at the session's end.

Each completed pair is scored in the background: a task per answer, at most
`evaluation.max_concurrency` at once, never awaited by the caller; results go to
`events.jsonl` as `answer_scored`. `finalize()` runs the full two-run evaluation and writes
`evaluation.json`, whatever happens.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from loguru import logger

from interview.config import InterviewConfig
from interview.events import EventSink
from interview.interruptions import CUT_NOTE
from interview.scoring import (
    AnswerScore,
    Evaluation,
    QAPair,
    Scorer,
    ScoringError,
    evaluate_interview,
    failed_evaluation,
    question_targets,
    score_answer,
)
from interview.session_snapshot import EvaluatorSnapshot

EVALUATION_FILE = "evaluation.json"


class RubricEvaluator:
    """Builds QA pairs from transcript lines, scores answers, writes the evaluation."""

    def __init__(
        self,
        config: InterviewConfig,
        scorer: Scorer,
        *,
        events: EventSink,
        clock: Callable[[], float] = time.monotonic,
        answer_grace_secs: float = 10.0,
    ) -> None:
        self.config = config
        self.scorer = scorer
        self._events = events
        self._clock = clock
        self._t0 = clock()
        self._answer_grace_secs = answer_grace_secs
        self._semaphore = asyncio.Semaphore(config.evaluation.max_concurrency)
        self._pairs: list[QAPair] = []
        self._answer_scores: list[AnswerScore] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._question: list[str] = []  # interviewer lines since the last answer
        self._question_at: float | None = None
        self._question_phase: str | None = None
        self._final: Evaluation | None = None

    @property
    def pairs(self) -> list[QAPair]:
        """Completed QA pairs so far, in order."""
        return list(self._pairs)

    @property
    def answer_scores(self) -> list[AnswerScore]:
        return list(self._answer_scores)

    # --- what the transcript says (synchronous, cheap) ----------------------------------------

    def on_line(self, speaker: str, text: str, phase: str) -> None:
        """One transcript line: an interviewer line joins the question, a candidate line completes the pair."""
        text = text.strip()
        if speaker == "interviewer":
            text = text.removesuffix(CUT_NOTE).rstrip()
            if not text:
                return
            if not self._question:
                self._question_at, self._question_phase = self._now(), phase
            self._question.append(text)
        elif speaker == "candidate" and text:
            self._complete_pair(text, phase)

    # --- resuming ---------------------------------------------------------------------------

    def snapshot(self) -> EvaluatorSnapshot:
        """What a resumed session needs to go on pairing and scoring where this one stood."""
        return EvaluatorSnapshot(
            pairs=[pair.to_dict() for pair in self._pairs],
            answer_scores=[score.to_dict() for score in self._answer_scores],
            question=list(self._question),
            question_at=self._question_at,
            question_phase=self._question_phase,
            elapsed_s=self._now(),
        )

    def restore(self, saved: EvaluatorSnapshot) -> None:
        """Take over the pairs, scores and open question of the session this one resumes."""
        self._t0 = self._clock() - saved.elapsed_s
        self._pairs = [QAPair(**{**p, "rubric_areas": tuple(p.get("rubric_areas", ()))}) for p in saved.pairs]
        self._answer_scores = [
            AnswerScore(**{**s, "evidence": tuple(s.get("evidence", ())), "flags": tuple(s.get("flags", ()))})
            for s in saved.answer_scores
        ]
        self._question = list(saved.question)
        self._question_at, self._question_phase = saved.question_at, saved.question_phase

    # --- the session-end hook ------------------------------------------------------------------

    async def finalize(self, timeout: float = 120.0) -> Evaluation:
        """Wait for (or cancel) per-answer scoring, evaluate, write evaluation.json. Never raises.

        Exceptions and timeouts end up in the file as missing areas with reasons. If the caller
        cancels us, a partial file is written before the cancellation propagates.
        """
        if self._final is not None:
            return self._final
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        try:
            await self._drain(min(self._answer_grace_secs, timeout / 2))
            remaining = max(deadline - loop.time(), 0.01)
            evaluation = await asyncio.wait_for(
                evaluate_interview(
                    self.config, self._pairs, self.scorer, semaphore=self._semaphore, interview_seconds=self._elapsed()
                ),
                remaining,
            )
        except asyncio.CancelledError:
            self._write(self._failed("the final evaluation was cancelled before it finished"))
            raise
        except TimeoutError:
            evaluation = self._failed(f"the final evaluation did not finish within {timeout:g}s")
        except Exception as exc:  # a bug or a scorer crash must not lose the session's evaluation
            logger.exception("interview evaluation failed")
            evaluation = self._failed(f"the final evaluation failed: {type(exc).__name__}: {exc}")
        self._write(evaluation)
        self._final = evaluation
        return evaluation

    # --- internals -----------------------------------------------------------------------------

    def _now(self) -> float:
        return round(self._clock() - self._t0, 3)

    def _complete_pair(self, answer: str, answer_phase: str) -> None:
        question = " ".join(self._question)
        phase = self._question_phase or answer_phase
        pair = QAPair(
            question=question,
            answer=answer,
            phase=phase,
            asked_at=self._question_at,
            answered_at=self._now(),
            rubric_areas=question_targets(self.config, phase, question) if question else (),
        )
        self._question, self._question_at, self._question_phase = [], None, None
        self._pairs.append(pair)
        index = len(self._pairs) - 1
        task = asyncio.get_running_loop().create_task(self._score_pair(index, pair), name=f"score_answer_{index}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _score_pair(self, index: int, pair: QAPair) -> None:
        try:
            async with self._semaphore:
                scores = await score_answer(pair, self.config, self.scorer, index=index)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            reason = exc.reason if isinstance(exc, ScoringError) else f"{type(exc).__name__}: {exc}"
            self._event("answer_scoring_failed", index=index, phase=pair.phase, reason=reason)
            return
        self._answer_scores.extend(scores)
        self._event(
            "answer_scored",
            index=index,
            phase=pair.phase,
            question=pair.question,
            rubric_areas=list(pair.rubric_areas),
            scorer=self.scorer.name,
            scores=[score.to_dict() for score in scores],
        )

    async def _drain(self, grace: float) -> None:
        pending = set(self._tasks)
        if not pending:
            return
        _, late = await asyncio.wait(pending, timeout=grace)
        if late:
            for task in late:
                task.cancel()
            await asyncio.wait(late, timeout=1.0)
            self._event("answer_scoring_cancelled", count=len(late), reason=f"still running after {grace:g}s")

    def _failed(self, reason: str) -> Evaluation:
        return failed_evaluation(self.config, self.scorer, reason, self._pairs, self._elapsed())

    def _elapsed(self) -> float:
        """How long the interview ran: from the first question heard (not from a wait for the candidate)."""
        first = next((p.asked_at for p in self._pairs if p.asked_at is not None), 0.0)
        return round(max(0.0, self._clock() - self._t0 - first), 1)

    def _write(self, evaluation: Evaluation) -> None:
        evaluation.answer_scores = sorted(self._answer_scores, key=lambda s: s.pair_index or 0)
        try:
            data = evaluation.to_dict()
            path = self._events.write_json(EVALUATION_FILE, data)
        except Exception:
            logger.exception("could not write evaluation.json")
            return
        self._event(
            "evaluation_written",
            path=str(path),
            scorer=evaluation.scorer,
            weighted_total=evaluation.weighted_total,
            recommendation=evaluation.recommendation,
            confidence=evaluation.confidence,
            missing_areas=sorted(evaluation.missing_areas),
            needs_human_review=data["needs_human_review"],
        )

    def _event(self, event_type: str, **data: Any) -> None:
        try:
            self._events.event(event_type, **data)
        except Exception:
            logger.exception(f"could not record event {event_type}")
