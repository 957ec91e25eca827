"""KeypadRequests: phone keypad shortcuts become the candidate's spoken request.

What Pipecat 1.14 lacks: transports turn key presses into ``InputDTMFFrame``s,
but nothing gives them meaning in a conversation (its ``DTMFAggregator`` turns
digits into a "DTMF: 1" transcription, which an interviewer would treat as an
answer). Here a configured key (``keypad.requests`` in the interview config,
by default ``*`` = repeat the question, ``#`` = move on) is delivered to the LLM
as the candidate asking for exactly that, with a response run, so any LLM and
the structured interviewer handle it like the spoken request. The press is
written to the session record as an event and a transcript line.

A press interrupts first (as Pipecat's DTMFAggregator does on a first digit):
the request's response must replace whatever the interviewer is saying, not
play over it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from loguru import logger
from pipecat.frames.frames import Frame, InputDTMFFrame, LLMMessagesAppendFrame
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor

from interview.config import KeypadSettings
from interview.events import EventSink

TranscriptWriter = Callable[[str, str], None]  # (key, request text)


class KeypadRequests(FrameProcessor):
    """InputDTMFFrame -> LLMMessagesAppendFrame(user: the configured request, run_llm=True)."""

    def __init__(
        self,
        settings: KeypadSettings,
        *,
        events: EventSink | None = None,
        on_request: TranscriptWriter | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._settings = settings
        self._events = events
        self._on_request = on_request

    def request_for(self, key: str) -> str | None:
        return self._settings.requests.get(key) if self._settings.enabled else None

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        await self.push_frame(frame, direction)
        if not isinstance(frame, InputDTMFFrame) or direction != FrameDirection.DOWNSTREAM:
            return
        key = frame.button.value
        request = self.request_for(key)
        if self._events is not None:
            self._events.event("keypad", key=key, request=request)
        if request is None:
            logger.debug(f"keypad key {key!r} has no request configured; ignored")
            return
        if self._on_request is not None:
            self._on_request(key, request)
        await self.broadcast_interruption()
        await self.push_frame(LLMMessagesAppendFrame([{"role": "user", "content": request}], run_llm=True))
