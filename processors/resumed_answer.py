"""ResumedAnswer: the candidate went on after the interviewer began replying — keep it one answer.

What Pipecat 1.14 lacks: when speech resumes after a turn was confirmed, Pipecat starts a
new user turn and interrupts the bot (right), but the context then holds the first part
of the answer, the interviewer's cut-off reply and the rest of the answer as three
messages, and the next reply answers only the rest. Its speculation gate covers a
resumption *before* the turn is confirmed; nothing covers one after.

Sits right after the user aggregator. A user turn that starts after a confirmed turn,
before the interviewer's reply started playing or within ``window_secs`` of it, is the
same answer going on: it pushes an :class:`AnswerResumedFrame` both ways (downstream:
the latency tracker keeps one turn record, the evaluator reopens the answer, the local
interviewer undoes its move; upstream: the turn-stop strategy judges the whole answer and
learns the pause), calls ``on_answer_resumed`` (the session keeps one transcript line) and
rewrites the contexts the LLM reads next (the provisional one of a prepared reply, and the
session's own once the aggregator has written the rest of the answer) so the two parts are
one user message, without the cut reply. A reply that called a tool (a phase change) stays
in the context: the tracker acted on it.
"""

from __future__ import annotations

import time
from typing import Any

from pipecat.frames.frames import (
    BotStartedSpeakingFrame,
    BotStoppedSpeakingFrame,
    Frame,
    LLMContextFrame,
    UserStartedSpeakingFrame,
    UserStoppedSpeakingFrame,
    VADUserStoppedSpeakingFrame,
)
from pipecat.processors.aggregators.llm_context import LLMContext
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor

from frames.interview_frames import AnswerResumedFrame
from interview.events import EventSink


class ResumedAnswer(FrameProcessor):
    """Detects a resumed answer and merges its two parts in the context."""

    def __init__(
        self,
        *,
        context: LLMContext | None = None,
        window_secs: float = 1.0,
        events: EventSink | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._context = context  # the session's context (the aggregator writes into it)
        self._window_secs = window_secs
        self._events = events
        self._register_event_handler("on_answer_resumed")
        self._last_answer = ""  # the last user message a confirmed turn wrote
        self._speculated: str | None = None  # the answer a held reply was prepared for, this turn
        self._answer_end: float | None = None  # monotonic end of its last word
        self._reply_open = False  # a turn was confirmed and its reply has not finished playing
        self._bot_started: float | None = None
        self._speech_end: float | None = None
        self._first_part: str | None = None  # a resumed answer's first part, not merged in the session context yet
        self._turns_since_resume = 0

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if isinstance(frame, VADUserStoppedSpeakingFrame) and direction == FrameDirection.DOWNSTREAM:
            self._speech_end = time.monotonic() - frame.stop_secs
        elif isinstance(frame, UserStoppedSpeakingFrame) and direction == FrameDirection.DOWNSTREAM:
            self._turns_since_resume += 1
            if self._turns_since_resume > 1:
                self._first_part = None  # the resumed turn and the one after it passed: nothing to merge
            self._reply_open, self._bot_started, self._answer_end = True, None, self._speech_end
            # A confirmed speculation writes no new context frame: its text is the answer.
            self._last_answer, self._speculated = self._speculated or "", None
        elif isinstance(frame, BotStartedSpeakingFrame):  # from the output, upstream
            self._merge_session_context()  # the reply to the whole answer plays: the rest is written
            if self._reply_open and self._bot_started is None:
                self._bot_started = time.monotonic()
        elif isinstance(frame, BotStoppedSpeakingFrame):
            if self._bot_started is not None:
                self._reply_open = False
        elif isinstance(frame, UserStartedSpeakingFrame) and direction == FrameDirection.DOWNSTREAM:
            await self._maybe_resumed()
        elif isinstance(frame, LLMContextFrame):
            self._on_context(frame)
        await self.push_frame(frame, direction)

    async def _maybe_resumed(self) -> None:
        now = time.monotonic()
        reply_open, self._reply_open = self._reply_open, False
        spoke = 0.0 if self._bot_started is None else now - self._bot_started
        if not reply_open or not self._last_answer or spoke > self._window_secs:
            return
        pause = 0.0 if self._answer_end is None else max(0.0, now - self._answer_end)
        resumed = AnswerResumedFrame(
            previous_answer=self._last_answer, pause_secs=round(pause, 3), interviewer_spoke_secs=round(spoke, 3)
        )
        self._first_part, self._turns_since_resume = self._last_answer, 0
        if self._events is not None:
            self._events.event(
                "answer_resumed", pause_secs=resumed.pause_secs, interviewer_spoke_secs=resumed.interviewer_spoke_secs
            )
        await self._call_event_handler("on_answer_resumed", resumed)
        await self.push_frame(resumed, FrameDirection.DOWNSTREAM)
        await self.push_frame(AnswerResumedFrame(**_fields(resumed)), FrameDirection.UPSTREAM)

    def _on_context(self, frame: LLMContextFrame) -> None:
        if self._first_part is not None:
            if frame.context is not self._context:
                merge_resumed_answer(frame.context, self._first_part)  # a provisional copy, or a test's
            self._merge_session_context()
        last = _last_user_text(frame.context.get_messages())
        if last is None:
            return
        if frame.speculation:
            self._speculated = last
        else:
            self._last_answer = last

    def _merge_session_context(self) -> None:
        if self._first_part is None or self._context is None:
            return
        merged = merge_resumed_answer(self._context, self._first_part)
        if merged or _never_mergeable(self._context, self._first_part):
            if self._events is not None:
                self._events.event("answer_merged", in_context=merged)
            self._first_part = None


def merge_resumed_answer(context: LLMContext, first_part: str) -> bool:
    """[..., user A, assistant (cut reply), user B, ...] -> [..., user "A B", ...].

    A is the last user message reading ``first_part``; False (and nothing changed) when B is
    not there yet or a tool call stands between them.
    """
    messages: list[Any] = list(context.get_messages())  # OpenAI-format dicts (LLMSpecificMessage never here)
    start = _last_user_index(messages, first_part)
    if start is None:
        return False
    for index in range(start + 1, len(messages)):
        message = messages[index]
        if _is_user_text(message):
            joined: Any = {**messages[start], "content": f"{first_part.strip()} {message['content'].strip()}".strip()}
            context.set_messages([*messages[:start], joined, *messages[index + 1 :]])
            return True
        if not isinstance(message, dict) or message.get("role") != "assistant" or message.get("tool_calls"):
            return False
    return False


def _last_user_index(messages: list[Any], text: str) -> int | None:
    for index in range(len(messages) - 1, -1, -1):
        if _is_user_text(messages[index]) and messages[index]["content"].strip() == text.strip():
            return index
    return None


def _never_mergeable(context: LLMContext, first_part: str) -> bool:
    """Something other than the cut reply followed the first part (a tool call, an instruction after
    a turn with no words): it stays, and the parts will never be merged."""
    messages = list(context.get_messages())
    start = _last_user_index(messages, first_part)
    return start is None or any(
        not _is_user_text(m) and not (isinstance(m, dict) and m.get("role") == "assistant" and not m.get("tool_calls"))
        for m in messages[start + 1 :]
    )


def _is_user_text(message: Any) -> bool:
    return isinstance(message, dict) and message.get("role") == "user" and isinstance(message.get("content"), str)


def _last_user_text(messages: list[Any]) -> str | None:
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") in ("assistant", "tool"):
            return None
        if _is_user_text(message):
            return message["content"]
    return None


def _fields(frame: AnswerResumedFrame) -> dict[str, Any]:
    return {
        "previous_answer": frame.previous_answer,
        "pause_secs": frame.pause_secs,
        "interviewer_spoke_secs": frame.interviewer_spoke_secs,
    }
