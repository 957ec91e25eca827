"""LLM failover: OpenAI -> optional second OpenAI-compatible endpoint -> the structured interviewer.

On an error, a dropped stream, or no first token within the stage timeout, the same
`LLMContext` (the candidate's answer is in it) is sent to the next LLM. The turn stays one
reply downstream: the failed attempt's start/end markers are swallowed, and words it already
streamed are not streamed again (`SpokenPrefix`). Built on Pipecat's `LLMSwitcher` (tool
handlers are registered on every member); see `switcher.py` for what Pipecat lacks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pipecat.frames.frames import (
    EagerEndOfTurnCancelFrame,
    Frame,
    FunctionCallInProgressFrame,
    FunctionCallsStartedFrame,
    InterruptionFrame,
    LLMContextFrame,
    LLMFullResponseEndFrame,
    LLMFullResponseStartFrame,
    LLMTextFrame,
    UserStoppedSpeakingFrame,
)
from pipecat.pipeline.llm_switcher import LLMSwitcher
from pipecat.processors.aggregators.llm_context import LLMContext
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor

from services.failover.spoken_prefix import SpokenPrefix
from services.failover.switcher import FailoverSwitcher


@dataclass
class _Turn:
    context: LLMContext
    started: bool = False  # an LLMFullResponseStartFrame went out
    said: str = ""  # text that went out
    dedupe: SpokenPrefix | None = None
    attempts: list[str] = field(default_factory=list)


class LLMFailover(FailoverSwitcher, LLMSwitcher):  # type: ignore[misc]
    stage = "llm"

    def __init__(self, llms: list[Any], **kwargs: Any) -> None:
        FailoverSwitcher.__init__(self, llms, **kwargs)
        self._turn: _Turn | None = None

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        if isinstance(frame, LLMContextFrame) and direction is FrameDirection.DOWNSTREAM:
            await self.at_turn_boundary()
            self._turn = _Turn(frame.context, attempts=[self.active_name])
            if not frame.speculation:  # a speculative reply is held until the turn ends: timed from then (below)
                self.arm("first token")
        elif isinstance(frame, (InterruptionFrame, EagerEndOfTurnCancelFrame)):
            self._turn = None  # a barge-in ends the turn, a withdrawn speculative reply was never one: nothing to retry
            self.disarm()
        elif isinstance(frame, UserStoppedSpeakingFrame) and self._turn is not None and not self._turn.started:
            # The LLM service's SpeculationGate releases a held speculative reply now; the candidate starts
            # waiting now, so the first-token clock does too.
            self.arm("first token")
        await LLMSwitcher.process_frame(self, frame, direction)

    def turn_in_progress(self) -> bool:
        return self._turn is not None

    async def on_output(self, service: FrameProcessor, frame: Frame) -> bool:
        turn = self._turn
        if turn is None:
            return True
        if isinstance(frame, LLMFullResponseStartFrame):
            if turn.started:
                return False
            turn.started = True
        elif isinstance(frame, LLMTextFrame):
            if turn.dedupe is not None:
                text = turn.dedupe.feed(frame.text)
                if not text:
                    self.arm("stream stalled")
                    return False
                frame.text = text
            turn.said += frame.text
            self.arm("stream stalled")
        elif isinstance(frame, (FunctionCallsStartedFrame, FunctionCallInProgressFrame)):
            self.disarm()
        elif isinstance(frame, LLMFullResponseEndFrame):
            self._turn = None
            await self.succeeded(service)
        return True

    async def retry_turn(self, failed: FrameProcessor, reason: str) -> bool:
        turn = self._turn
        if turn is None:
            return False
        turn.dedupe = SpokenPrefix(turn.said) if turn.said else None
        turn.attempts.append(self.active_name)
        self.arm("first token")
        await self.inject(LLMContextFrame(turn.context))
        return True
