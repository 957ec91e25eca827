"""Stands in for TTS + the output transport's timing: the bot is audible for a while after it starts.

Pipecat's assistant aggregator holds a tool result's follow-up response while the bot speaks
and drops it on an interruption; a test of barge-in over a reply needs that window without
real speech. On the first text of a response this pushes `BotStartedSpeakingFrame` both
ways, and `BotStoppedSpeakingFrame` after `speak_secs` or at once on an interruption, as the
output transport does.
"""

from __future__ import annotations

import asyncio

from pipecat.frames.frames import (
    BotStartedSpeakingFrame,
    BotStoppedSpeakingFrame,
    CancelFrame,
    EndFrame,
    Frame,
    InterruptionFrame,
    LLMTextFrame,
)
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor


class SpeakingOutput(FrameProcessor):
    def __init__(self, speak_secs: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        self._speak_secs = speak_secs
        self._stop_task: asyncio.Task | None = None
        self.utterances: list[str] = []

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if isinstance(frame, LLMTextFrame) and direction == FrameDirection.DOWNSTREAM:
            if self._stop_task is None:
                self.utterances.append("")
                await self._both_ways(BotStartedSpeakingFrame)
                self._stop_task = self.create_task(self._stop_later())
            self.utterances[-1] += frame.text
        elif isinstance(frame, InterruptionFrame):
            await self._stop_speaking()
        elif isinstance(frame, (EndFrame, CancelFrame)) and self._stop_task is not None:
            await self.cancel_task(self._stop_task)
            self._stop_task = None
        await self.push_frame(frame, direction)

    async def _stop_later(self) -> None:
        await asyncio.sleep(self._speak_secs)
        self._stop_task = None
        await self._both_ways(BotStoppedSpeakingFrame)

    async def _stop_speaking(self) -> None:
        if self._stop_task is None:
            return
        task, self._stop_task = self._stop_task, None
        await self.cancel_task(task)
        await self._both_ways(BotStoppedSpeakingFrame)

    async def _both_ways(self, frame_type: type[Frame]) -> None:
        await self.push_frame(frame_type())
        await self.push_frame(frame_type(), FrameDirection.UPSTREAM)
