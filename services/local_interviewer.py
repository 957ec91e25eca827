"""An LLMService that conducts the interview without a language model.

Pipecat ships no rule-driven LLM stand-in; this wraps `StructuredInterviewer`
(the decision logic, in interview/) so that, seen from the pipeline, it behaves
exactly like a streaming chat model: it consumes `LLMContextFrame`s, reports
TTFB metrics, streams `LLMTextFrame`s between response start/end frames and
calls tools through `run_function_calls`, the path OpenAI tool calls take.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from typing import Any

from pipecat.frames.frames import (
    EagerEndOfTurnCancelFrame,
    Frame,
    FunctionCallFromLLM,
    InterruptionFrame,
    LLMContextFrame,
    LLMFullResponseEndFrame,
    LLMFullResponseStartFrame,
    UserStartedSpeakingFrame,
    UserStoppedSpeakingFrame,
)
from pipecat.processors.aggregators.llm_context import LLMContext
from pipecat.processors.frame_processor import FrameDirection
from pipecat.services.llm_service import LLMService
from pipecat.services.settings import LLMSettings

from frames.interview_frames import AnswerResumedFrame
from interview.config import InterviewConfig, Persona
from interview.structured_interviewer import Move, StructuredInterviewer

TOKEN_PATTERN = re.compile(r"\S+\s*")
TOKENS_PER_CHUNK = 3


class LocalInterviewerLLMService(LLMService):
    """Structured interview, no LLM: deterministic questions, follow-ups and phase moves."""

    def __init__(
        self,
        config: InterviewConfig,
        *,
        persona: Persona = "interviewer",
        candidate_name: str | None = None,
        token_delay_secs: float = 0.0,
        **kwargs,
    ):
        settings = LLMSettings(
            model="local-structured-interviewer",
            system_instruction=None,
            temperature=None,
            max_tokens=None,
            top_p=None,
            top_k=None,
            frequency_penalty=None,
            presence_penalty=None,
            seed=None,
            filter_incomplete_user_turns=False,
            user_turn_completion_config=None,
            extra={},
        )
        super().__init__(settings=settings, **kwargs)
        self._engine = StructuredInterviewer(config, persona=persona, candidate_name=candidate_name)
        self._token_delay_secs = token_delay_secs
        self._turn_open = False  # the candidate's turn has started and not been confirmed over

    @property
    def finished(self) -> bool:
        return self._engine.finished

    @property
    def current_phase_id(self) -> str:
        return self._engine.current_phase_id

    def can_generate_metrics(self) -> bool:
        return True

    async def process_frame(self, frame: Frame, direction: FrameDirection):
        await super().process_frame(frame, direction)
        if isinstance(frame, LLMContextFrame):
            # A speculative context answers a turn that may not be over: Pipecat's speculation
            # gate holds the reply, and the move counts only once the turn is confirmed.
            await self._respond(frame.context, tentative=frame.speculation and self._turn_open)
            return
        self._follow_turn(frame)
        await self.push_frame(frame, direction)

    def _follow_turn(self, frame: Frame) -> None:
        """Settle a held move the way the speculation gate settles its reply."""
        if isinstance(frame, UserStartedSpeakingFrame):
            self._turn_open = True
        elif isinstance(frame, UserStoppedSpeakingFrame):
            self._turn_open = False
            self._engine.confirm_tentative()
        elif isinstance(frame, (EagerEndOfTurnCancelFrame, InterruptionFrame)):
            self._engine.withdraw_tentative()
        if isinstance(frame, AnswerResumedFrame):
            self._engine.undo_last_move()

    async def _respond(self, context: LLMContext, *, tentative: bool = False) -> None:
        await self.push_frame(LLMFullResponseStartFrame())
        await self.start_processing_metrics()
        await self.start_ttfb_metrics()
        try:
            messages: list[Any] = list(context.get_messages())
            move = self._engine.next_move(messages, tentative=tentative)
            await self.stop_ttfb_metrics()
            await self._stream_text(move)
            if move.tool_call is not None:
                if self._speculation_gate.is_speculating:
                    # Pipecat withdraws a prepared reply that wants a tool call (the call could not
                    # be undone), even when the turn end confirmed it a moment ago: the move never
                    # happened, and the next inference makes it again.
                    self._engine.call_withdrawn()
                await self.run_function_calls(
                    [
                        FunctionCallFromLLM(
                            function_name=move.tool_call.name,
                            tool_call_id=f"call_{uuid.uuid4().hex[:24]}",
                            arguments=move.tool_call.arguments,
                            context=context,
                        )
                    ]
                )
        finally:
            await self.stop_processing_metrics()
            await self.push_frame(LLMFullResponseEndFrame())

    async def _stream_text(self, move: Move) -> None:
        tokens = TOKEN_PATTERN.findall(move.text)
        for start in range(0, len(tokens), TOKENS_PER_CHUNK):
            await self._push_llm_text("".join(tokens[start : start + TOKENS_PER_CHUNK]))
            if self._token_delay_secs:
                await asyncio.sleep(self._token_delay_secs)
