"""TTS failover: ElevenLabs -> Piper, finishing the reply from the first word not yet heard.

The switcher keeps the text of the reply under way and the words the service has spoken
(`TTSTextFrame`s come out in step with playback). On an error, a dropped socket, no first
audio within the stage timeout, or audio stalling once all text is in, the rest of the reply
goes to the next TTS. If part of the reply was already played, the audio queued behind it
(received from the failed service, not yet heard) is cleared first with an interruption, so
the candidate hears each word once: the fallback starts at the first word not heard.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

from pipecat.frames.frames import (
    Frame,
    InterruptionFrame,
    LLMFullResponseEndFrame,
    LLMFullResponseStartFrame,
    LLMTextFrame,
    TTSAudioRawFrame,
    TTSSpeakFrame,
    TTSStoppedFrame,
    TTSTextFrame,
)
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor

from services.failover.spoken_prefix import SpokenPrefix
from services.failover.switcher import FailoverSwitcher

_SENTENCE_END = re.compile(r"[.!?]")
PLAYOUT_SLACK_SECS = 0.25


@dataclass
class _Reply:
    text: str = ""  # everything handed to the TTS for this reply
    from_llm: bool = True  # LLM stream (start/text/end) or one TTSSpeakFrame
    input_done: bool = False
    spoken: str = ""  # words that came out while their audio could be playing (heard)
    audio_out: bool = False
    first_audio_at: float | None = None
    audio_secs: float = 0.0
    held: list[TTSTextFrame] = field(default_factory=list)  # words with no audio playing yet
    start_out: bool = False
    end_out: bool = False


def _playing(reply: _Reply) -> bool:
    """Could the reply's audio still be playing now (real-time playout from its first chunk)?"""
    if reply.first_audio_at is None:
        return False
    return time.monotonic() - reply.first_audio_at <= reply.audio_secs + PLAYOUT_SLACK_SECS


class TTSFailover(FailoverSwitcher):
    stage = "tts"

    def __init__(self, services: list[FrameProcessor], **kwargs) -> None:
        super().__init__(services, **kwargs)
        self._reply: _Reply | None = None

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        if direction is FrameDirection.DOWNSTREAM:
            await self._track_input(frame)
        await super().process_frame(frame, direction)

    async def _track_input(self, frame: Frame) -> None:
        if isinstance(frame, InterruptionFrame):
            self._reply = None  # barge-in: the rest of the reply is not wanted
            self.disarm()
        elif isinstance(frame, LLMFullResponseStartFrame):
            if self._reply is None:
                await self.at_turn_boundary()
            self._reply = _Reply()
        elif isinstance(frame, TTSSpeakFrame):
            if self._reply is None:
                await self.at_turn_boundary()
            self._reply = _Reply(text=frame.text, from_llm=False, input_done=True)
            self.arm("first audio")
        elif isinstance(frame, LLMTextFrame) and self._reply is not None:
            self._reply.text += frame.text
            if not self._reply.audio_out and _SENTENCE_END.search(frame.text) and self._watchdog is None:
                self.arm("first audio")
        elif isinstance(frame, LLMFullResponseEndFrame) and self._reply is not None:
            self._reply.input_done = True
            if self._reply.text.strip() and not self._reply.audio_out:
                self.arm("first audio")

    def turn_in_progress(self) -> bool:
        return self._reply is not None and bool(self._reply.text.strip())

    async def on_output(self, service: FrameProcessor, frame: Frame) -> bool:
        reply = self._reply
        if reply is None:
            return True
        if isinstance(frame, LLMFullResponseStartFrame):
            if reply.start_out:
                return False
            reply.start_out = True
        elif isinstance(frame, LLMFullResponseEndFrame):
            if reply.end_out:
                return False
            reply.end_out = True
        elif isinstance(frame, TTSAudioRawFrame):
            reply.audio_out = True
            reply.first_audio_at = reply.first_audio_at or time.monotonic()
            reply.audio_secs += len(frame.audio) / (2 * frame.num_channels * frame.sample_rate)
            await self._release(reply)
            self.arm("audio stalled")
        elif isinstance(frame, TTSTextFrame):
            # Word timestamps arrive in step with playback. Words that arrive with no audio playing
            # wait for the next audio: a failing service "completes" its unspoken words at once
            # (Pipecat flushes them when a context ends), and those were never heard.
            if not _playing(reply):
                reply.held.append(frame)
                return False
            reply.spoken += " " + frame.text
        elif isinstance(frame, TTSStoppedFrame) and reply.input_done and reply.audio_out:
            # (a context that ends with no audio is a failure the service reports next, not a success)
            await self._release(reply)
            self._reply = None
            await self.succeeded(service)
        return True

    async def retry_turn(self, failed: FrameProcessor, reason: str) -> bool:
        reply = self._reply
        if reply is None:
            return False
        rest = SpokenPrefix(reply.spoken).feed(reply.text) if reply.spoken.strip() else reply.text
        if reply.audio_out:
            # Audio of the failed service may be queued beyond the last word heard: clear it.
            await FailoverSwitcher.push_frame(self, InterruptionFrame())
        reply.audio_out, reply.first_audio_at, reply.audio_secs, reply.held = False, None, 0.0, []
        if reply.from_llm and not reply.input_done:
            # The LLM is still streaming: open the reply on the new service; the rest follows.
            await self.inject_through(LLMFullResponseStartFrame())
            await self.inject_through(LLMTextFrame(rest))
        elif rest.strip():
            await self.inject_through(TTSSpeakFrame(rest))
        if rest.strip():
            self.arm("first audio")
        return True

    async def _release(self, reply: _Reply) -> None:
        held, reply.held = reply.held, []
        for frame in held:
            reply.spoken += " " + frame.text
            await FailoverSwitcher.push_frame(self, frame)

    async def inject_through(self, frame: Frame) -> None:
        """Like `inject`, but what the service passes on may leave (the reply's markers are deduplicated)."""
        index = self.services.index(self.strategy.active_service)
        await self._pipelines[index].queue_frame(frame, FrameDirection.DOWNSTREAM)
