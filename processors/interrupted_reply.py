"""InterruptedReply: write a reply the candidate talked over into the context as cut, and resume it if nothing followed.

What Pipecat 1.14 lacks: on an interruption its assistant aggregator writes only the sentences
whose audio finished (TTS services without word timestamps release a sentence's text after
its audio), with nothing saying the reply was cut, and the sentence being spoken is lost; its
``EmptyUserTurnConfig`` can run the LLM after a turn with no words, but nothing knows what
the interrupted reply still had to say (LiveKit's ``resume_false_interruption`` has no
Pipecat counterpart).

This processor sits between the LLM and the TTS, where a reply's whole text passes
(``LLMTextFrame`` from the LLM). :meth:`on_assistant_turn_stopped`
(hooked to the assistant aggregator's event of that name) then, for an interrupted turn,
rewrites the turn's context message as what was heard plus the cut sentence marked
(:func:`interview.interruptions.mark_cut`), and keeps the reply so a false interruption
can resume it (:attr:`interrupted_reply`). Replies the candidate heard in full are forgotten.

A reply cut because the candidate went on with their answer (``AnswerResumedFrame`` from
:mod:`processors.resumed_answer`) is no barge-in: that side drops the reply and keeps one
answer, so here it is neither marked nor reported (:meth:`withdraw` if it already was).
"""

from __future__ import annotations

from typing import Any

from pipecat.frames.frames import Frame, InterruptionFrame, LLMTextFrame
from pipecat.processors.aggregators.llm_context import LLMContext
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor

from frames.interview_frames import AnswerResumedFrame
from interview.events import EventSink
from interview.interruptions import mark_cut, sentences, unheard_part


class InterruptedReply(FrameProcessor):
    """Knows the reply being spoken; marks it cut in the context when the candidate talks over it."""

    def __init__(self, context: LLMContext, *, events: EventSink | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._context = context
        self._events = events
        self._reply: list[str] = []  # text of the replies since the candidate last heard one in full
        self._at_interruption = ""  # what that was when the last interruption passed
        self.interrupted_reply = ""  # the last reply that was cut (for a resume)
        self.last_marked = ""  # its text as written to the context and transcript

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if isinstance(frame, LLMTextFrame) and direction == FrameDirection.DOWNSTREAM:
            self._reply.append(frame.text)
        elif isinstance(frame, InterruptionFrame):
            self._at_interruption, self._reply = "".join(self._reply).strip(), []
        elif isinstance(frame, AnswerResumedFrame) and direction == FrameDirection.DOWNSTREAM:
            self._at_interruption, self._reply = "", []  # the interruption on its way is the answer going on
            self.withdraw()
        await self.push_frame(frame, direction)

    def on_assistant_turn_stopped(self, content: str, interrupted: bool) -> str:
        """Called with the aggregator's turn message; returns the text to record for the turn."""
        if not interrupted:
            self._reply = []
            return content
        reply, self._at_interruption = self._at_interruption, ""
        if not reply:
            return content
        rest = sentences(unheard_part(reply, content))
        if not rest:
            return content  # the whole reply had been heard
        marked = mark_cut(content, rest[0])
        self._write(content, marked)
        self.interrupted_reply, self.last_marked = reply, marked
        if self._events is not None:
            self._events.event("interviewer_cut", heard=content, cut_sentence=rest[0], unsaid=" ".join(rest[1:]))
        return marked

    def withdraw(self) -> bool:
        """Take the last marked reply out of the context (the candidate's turn resumed and the reply is void)."""
        messages: list[Any] = self._context.messages
        if not self.last_marked or not messages or messages[-1].get("content") != self.last_marked:
            return False
        self._context.set_messages(messages[:-1])
        self.interrupted_reply = self.last_marked = ""
        return True

    def _write(self, heard: str, marked: str) -> None:
        """Replace the turn's assistant message (the aggregator added one only if a sentence was heard)."""
        messages = self._context.messages
        last = messages[-1] if messages else None
        if heard and isinstance(last, dict) and last.get("role") == "assistant" and last.get("content") == heard:
            last["content"] = marked
        else:
            self._context.add_message({"role": "assistant", "content": marked})
