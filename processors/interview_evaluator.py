"""Interview evaluator: taps the conversation into phase-tagged QA pairs and scores them.

What Pipecat lacks: it has no rubric scoring at all, and its aggregator events
(`on_user_turn_stopped`, `on_assistant_turn_stopped`) give turns, not question/answer pairs
tagged with the interview phase and the rubric areas the question targets. This module adds
that, without touching the frames:

    transport.input() -> STT -> [evaluator.candidate_tap()] -> user aggregator -> ... -> LLM
      -> TTS -> transport.output() -> [evaluator.interviewer_tap()] -> recorder -> assistant aggregator

* The candidate tap sits between STT and the user aggregator (which consumes
  `TranscriptionFrame`s). Final transcripts only; consecutive finals are joined into one
  answer until the interviewer speaks again.
* The interviewer tap sees `TTSTextFrame`s *after* `transport.output()`, which releases them in
  step with the audio: the question recorded is what the candidate heard (text cut off by a
  barge-in never arrives), timed when it was heard. A tap right after TTS would also work but
  records words that were synthesised and then interrupted; one after the LLM would see raw
  `LLMTextFrame`s before any of it is spoken.

When the interviewer starts the next turn (or the session ends) the finished pair is scored
in the background: a task per answer, at most `evaluation.max_concurrency` at once, never
awaited on the frame path; results go to `events.jsonl` as `answer_scored`. `finalize()`
runs the full two-run evaluation and writes `evaluation.json`, whatever happens.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from typing import Any

from loguru import logger
from pipecat.frames.frames import (
    BotStartedSpeakingFrame,
    CancelFrame,
    EndFrame,
    Frame,
    TranscriptionFrame,
    TTSTextFrame,
)
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor
from pipecat.utils.string import TextPartForConcatenation, concatenate_aggregated_text

from interview.config import InterviewConfig
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
from processors.events import EventSink
from processors.resumed_answer import AnswerResumedFrame

Spawn = Callable[[Coroutine[Any, Any, None]], asyncio.Task[None]]
EVALUATION_FILE = "evaluation.json"


class InterviewEvaluator:
    """Shared state of the two taps: builds QA pairs, scores answers, writes the evaluation."""

    def __init__(
        self,
        config: InterviewConfig,
        scorer: Scorer,
        *,
        events: EventSink,
        current_phase: Callable[[], str],
        clock: Callable[[], float] = time.monotonic,
        answer_grace_secs: float = 10.0,
    ) -> None:
        self.config = config
        self.scorer = scorer
        self._events = events
        self._current_phase = current_phase
        self._clock = clock
        self._t0 = clock()
        self._answer_grace_secs = answer_grace_secs
        self._semaphore = asyncio.Semaphore(config.evaluation.max_concurrency)
        self._pairs: list[QAPair] = []
        self._answer_scores: list[AnswerScore] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._scoring: dict[int, asyncio.Task[None]] = {}  # pair index -> its scoring task
        self._answer_resumed = False  # until the next reply starts: the cut reply's last words are not a question
        self._question: list[TextPartForConcatenation] = []
        self._question_at: float | None = None
        self._question_phase: str | None = None
        self._answer: list[str] = []
        self._answer_phase: str | None = None
        self._answer_at: float | None = None
        self._final: Evaluation | None = None
        self._candidate_tap = CandidateTranscriptTap(self)
        self._interviewer_tap = InterviewerSpeechTap(self)

    # --- wiring -------------------------------------------------------------------------

    def candidate_tap(self) -> FrameProcessor:
        """Place between STT and the user aggregator."""
        return self._candidate_tap

    def interviewer_tap(self) -> FrameProcessor:
        """Place after transport.output() (before the assistant aggregator)."""
        return self._interviewer_tap

    @property
    def pairs(self) -> list[QAPair]:
        """Completed QA pairs so far, in order."""
        return list(self._pairs)

    @property
    def answer_scores(self) -> list[AnswerScore]:
        return list(self._answer_scores)

    # --- what the taps report (synchronous, cheap) ------------------------------------------

    def on_interviewer_text(self, text: str, includes_spaces: bool, spawn: Spawn | None = None) -> None:
        """Interviewer words as heard. The first words after an answer close that answer."""
        if self._answer_resumed:
            return
        if self._answer:
            self._complete_pair(spawn)
        if not self._question:
            self._question_at = self._now()
            self._question_phase = self._safe_phase()
        self._question.append(TextPartForConcatenation(text, includes_spaces))

    def on_candidate_text(self, text: str, spawn: Spawn | None = None) -> None:
        """One final transcript; joined with the others until the interviewer speaks again."""
        text = text.strip()
        if not text:
            return
        if not self._answer:
            self._answer_phase = self._safe_phase()
        self._answer.append(text)
        self._answer_at = self._now()

    def on_answer_resumed(self) -> None:
        """The candidate went on with the last answer after the interviewer began replying.

        The interviewer's cut-off words are dropped and the last pair is reopened, so what the
        candidate says next joins the same answer (one answer, scored once).
        """
        self._answer_resumed = True
        if self._answer or not self._pairs:
            return  # nothing of the reply was heard: the answer (and its question) is still open
        index = len(self._pairs) - 1
        pair = self._pairs.pop()
        task = self._scoring.pop(index, None)
        if task is not None:
            task.cancel()
        self._answer_scores = [s for s in self._answer_scores if s.pair_index != index]
        self._question = [TextPartForConcatenation(pair.question, True)] if pair.question else []
        self._question_at, self._question_phase = pair.asked_at, pair.phase
        self._answer, self._answer_phase, self._answer_at = [pair.answer], pair.phase, pair.answered_at
        self._event("answer_reopened", index=index)

    def on_reply_started(self) -> None:
        """The interviewer starts a new reply: the cut one's last words are past."""
        self._answer_resumed = False

    def on_session_end(self, spawn: Spawn | None = None) -> None:
        """EndFrame / CancelFrame: the answer in progress is complete."""
        if self._answer:
            self._complete_pair(spawn)

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
            self.on_session_end()
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

    def _safe_phase(self) -> str:
        try:
            return self._current_phase()
        except Exception:  # the phase clock must never break the frame path
            logger.exception("current_phase() failed")
            return "unknown"

    def _complete_pair(self, spawn: Spawn | None) -> None:
        question = concatenate_aggregated_text(self._question).strip()
        phase = self._question_phase or self._answer_phase or self._safe_phase()
        pair = QAPair(
            question=question,
            answer=" ".join(self._answer),
            phase=phase,
            asked_at=self._question_at,
            answered_at=self._answer_at,
            rubric_areas=question_targets(self.config, phase, question) if question else (),
        )
        self._question, self._question_at, self._question_phase = [], None, None
        self._answer, self._answer_phase, self._answer_at = [], None, None
        self._pairs.append(pair)
        coroutine = self._score_pair(len(self._pairs) - 1, pair)
        task = spawn(coroutine) if spawn is not None else asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        self._scoring[len(self._pairs) - 1] = task
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


class _Tap(FrameProcessor):
    """Passes every frame on unchanged; reports what it saw to the evaluator."""

    def __init__(self, evaluator: InterviewEvaluator, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._evaluator = evaluator

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """The pipeline's task manager when we are set up (tracked, named), else a plain task."""
        try:
            return self.create_task(coroutine, "score_answer")
        except Exception:
            return asyncio.get_running_loop().create_task(coroutine)

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if isinstance(frame, (EndFrame, CancelFrame)):
            # The pipeline (and its task manager) is going away; finalize() owns this last task.
            self._evaluator.on_session_end()
        await self.push_frame(frame, direction)
        if direction == FrameDirection.DOWNSTREAM:
            self._observe(frame)

    def _observe(self, frame: Frame) -> None:
        raise NotImplementedError


class CandidateTranscriptTap(_Tap):
    """Between STT and the user aggregator: final `TranscriptionFrame`s are the candidate's words."""

    def _observe(self, frame: Frame) -> None:
        if isinstance(frame, TranscriptionFrame):
            self._evaluator.on_candidate_text(frame.text, self._spawn)


class InterviewerSpeechTap(_Tap):
    """After transport.output(): `TTSTextFrame`s are the interviewer's words as they are played."""

    def _observe(self, frame: Frame) -> None:
        if isinstance(frame, TTSTextFrame) and frame.text.strip():
            self._evaluator.on_interviewer_text(frame.text, frame.includes_inter_frame_spaces, self._spawn)
        elif isinstance(frame, AnswerResumedFrame):
            self._evaluator.on_answer_resumed()
        elif isinstance(frame, BotStartedSpeakingFrame):
            self._evaluator.on_reply_started()
