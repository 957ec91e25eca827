"""InterviewEvaluator: the transcript and the scorecard, in the pipeline right after the user side.

It writes the session's transcript lines (assembled once, `interview/transcript_lines.py`)
and hands each to the rubric evaluator (`interview/evaluator.py`), which pairs every finished
answer with its question and scores it in the background. Where its inputs come from:

* the candidate's and the interviewer's words: the two turn events of the context aggregators
  (`attach`), which is how Pipecat 1.14 gives turns' text now that `TranscriptProcessor` is
  gone; the interviewer line is what the candidate heard (the assistant aggregator sits after
  the output);
* an answer the candidate went on with after the reply began: `AnswerResumedFrame`, in band,
  from `ResumedAnswer` just before it. The evaluator runs in direct mode, so the held answer
  is reopened inside that push, before the cut reply can reach the transcript;
* the pipeline's end (`EndFrame` / `CancelFrame`): the answer still held is written.

`finalize()` (the session's end) writes `evaluation.json` whatever happened.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from pipecat.frames.frames import CancelFrame, EndFrame, Frame
from pipecat.processors.aggregators.llm_response_universal import LLMAssistantAggregator, LLMUserAggregator
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor

from frames.interview_frames import AnswerResumedFrame
from interview.config import InterviewConfig
from interview.evaluator import RubricEvaluator
from interview.events import EventSink
from interview.scoring import Evaluation, Scorer
from interview.session_snapshot import EvaluatorSnapshot, HeldLine, SessionSnapshot
from interview.transcript_lines import TranscriptLines


class SessionTranscript(EventSink, Protocol):
    """The session record as the evaluator writes it: lines, events, evaluation.json."""

    def transcript(self, speaker: str, text: str, **extra: Any) -> None: ...


class InterviewEvaluator(FrameProcessor):
    """Writes each transcript line once and scores each finished answer; passes every frame on."""

    def __init__(
        self, config: InterviewConfig, scorer: Scorer, record: SessionTranscript, *, current_phase: Callable[[], str]
    ) -> None:
        super().__init__(name="InterviewEvaluator", enable_direct_mode=True)
        self.rubric = RubricEvaluator(config, scorer, events=record)
        self._record = record
        self._phase = current_phase
        self._lines = TranscriptLines(record.transcript, record.event, on_line=self.rubric.on_line)

    def attach(self, user: LLMUserAggregator, assistant: LLMAssistantAggregator) -> None:
        """Take the candidate's and the interviewer's lines from the aggregators' turn events."""

        @user.event_handler("on_user_turn_stopped")
        async def on_user_turn_stopped(_aggregator: Any, _strategy: Any, message: Any) -> None:
            if message.content:
                self._lines.candidate(message.content, phase=self._phase())

        @assistant.event_handler("on_assistant_turn_stopped")
        async def on_assistant_turn_stopped(_aggregator: Any, message: Any) -> None:
            if message.content:
                self._lines.interviewer(message.content, phase=self._phase(), interrupted=message.interrupted)

    def snapshot(self) -> tuple[EvaluatorSnapshot, HeldLine | None]:
        """The rubric evaluator's pairs and scores, and the answer the transcript still holds."""
        held = self._lines.held()
        return self.rubric.snapshot(), (None if held is None else HeldLine(text=held[0], phase=held[1], extra=held[2]))

    def restore(self, saved: SessionSnapshot) -> None:
        """Go on from a saved session: its pairs and scores, and the answer it held (written with the next line)."""
        self.rubric.restore(saved.evaluator)
        if saved.held_line is not None:
            self._lines.hold(saved.held_line.text, saved.held_line.phase, saved.held_line.extra)

    def keypad_request(self, key: str, request: str) -> None:
        """A request made on the phone keypad: a candidate line of its own (no answer to score)."""
        self._lines.flush()
        self._record.transcript("candidate", request, phase=self._phase(), keypad=key)

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if isinstance(frame, AnswerResumedFrame) and direction is FrameDirection.DOWNSTREAM:
            self._lines.answer_resumed()
        elif isinstance(frame, (EndFrame, CancelFrame)):
            self._lines.flush()
        await self.push_frame(frame, direction)

    async def finalize(self, timeout: float) -> Evaluation:
        """The answer in progress is complete; score what is left and write evaluation.json (never raises)."""
        self._lines.flush()
        return await self.rubric.finalize(timeout=timeout)
