"""ResumedAnswer: the candidate went on after the interviewer began replying — keep it one answer.

What Pipecat 1.14 lacks: when speech resumes after a turn was confirmed, Pipecat starts a
new user turn and interrupts the bot (right), but the context then holds the first part
of the answer, the interviewer's cut-off reply and the rest of the answer as three
messages, and the next reply answers only the rest. Its speculation gate covers a
resumption *before* the turn is confirmed; nothing covers one after.

Sits right after the user aggregator. A user turn that starts after a confirmed turn,
before the interviewer's reply started playing or within ``window_secs`` of it, is the
same answer going on: it pushes an :class:`AnswerResumedFrame` both ways (downstream:
the latency probe keeps one turn record, the evaluator reopens the answer, the local
interviewer undoes its move; upstream: the turn-stop strategy judges the whole answer and
learns the pause), calls ``on_answer_resumed`` (the session keeps one transcript line) and
rewrites the next context so the two parts are one user message, without the cut reply.
A reply that called a tool (a phase change) stays in the context: the tracker acted on it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from pipecat.frames.frames import (
    BotStartedSpeakingFrame,
    BotStoppedSpeakingFrame,
    Frame,
    LLMContextFrame,
    SystemFrame,
    UserStartedSpeakingFrame,
    UserStoppedSpeakingFrame,
    VADUserStoppedSpeakingFrame,
)
from pipecat.processors.aggregators.llm_context import LLMContext
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor

from processors.events import EventSink


@dataclass
class AnswerResumedFrame(SystemFrame):
    """The candidate resumed the answer the interviewer had begun to reply to."""

    previous_answer: str = ""
    pause_secs: float = 0.0  # silence from the end of the answer's last word to the new speech
    interviewer_spoke_secs: float = 0.0  # how long the reply had been playing (0: not yet)


class ResumedAnswer(FrameProcessor):
    """Detects a resumed answer and merges its two parts in the context."""

    def __init__(self, *, window_secs: float = 2.0, events: EventSink | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._window_secs = window_secs
        self._events = events
        self._register_event_handler("on_answer_resumed")
        self._last_answer = ""  # the last user message a confirmed turn wrote
        self._answer_end: float | None = None  # monotonic end of its last word
        self._reply_open = False  # a turn was confirmed and its reply has not finished playing
        self._bot_started: float | None = None
        self._speech_end: float | None = None
        self._merge_pending = False

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if isinstance(frame, VADUserStoppedSpeakingFrame) and direction == FrameDirection.DOWNSTREAM:
            self._speech_end = time.monotonic() - frame.stop_secs
        elif isinstance(frame, UserStoppedSpeakingFrame) and direction == FrameDirection.DOWNSTREAM:
            self._reply_open, self._bot_started, self._answer_end = True, None, self._speech_end
        elif isinstance(frame, BotStartedSpeakingFrame) and direction == FrameDirection.UPSTREAM:
            if self._reply_open and self._bot_started is None:
                self._bot_started = time.monotonic()
        elif isinstance(frame, BotStoppedSpeakingFrame) and direction == FrameDirection.UPSTREAM:
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
        self._merge_pending = True
        if self._events is not None:
            self._events.event(
                "answer_resumed", pause_secs=resumed.pause_secs, interviewer_spoke_secs=resumed.interviewer_spoke_secs
            )
        await self._call_event_handler("on_answer_resumed", resumed)
        await self.push_frame(resumed, FrameDirection.DOWNSTREAM)
        await self.push_frame(AnswerResumedFrame(**_fields(resumed)), FrameDirection.UPSTREAM)

    def _on_context(self, frame: LLMContextFrame) -> None:
        if self._merge_pending:
            merged = merge_resumed_answer(frame.context)
            if self._events is not None and not frame.speculation:
                self._events.event("answer_merged", in_context=merged)
            if not frame.speculation:
                self._merge_pending = False
        last = _last_user_text(frame.context.get_messages())
        if last is not None and not frame.speculation:
            self._last_answer = last


def merge_resumed_answer(context: LLMContext) -> bool:
    """[..., user A, assistant (cut reply), user B] -> [..., user "A B"]; False if a tool call is in between."""
    messages = list(context.get_messages())
    if not messages or not _is_user_text(messages[-1]):
        return False
    for index in range(len(messages) - 2, -1, -1):
        message = messages[index]
        if _is_user_text(message):
            joined = {**message, "content": f"{message['content'].strip()} {messages[-1]['content'].strip()}".strip()}
            context.set_messages([*messages[:index], joined])
            return True
        if not isinstance(message, dict) or message.get("role") != "assistant" or message.get("tool_calls"):
            return False
    return False


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
