"""STT failover: Deepgram -> Whisper, re-transcribing the answer's audio on the fallback.

The switcher keeps the audio of the answer under way (from a little before the candidate
started speaking). On an error or a dropped socket mid-answer, or no final transcript within
the stage timeout after the candidate stopped, that audio is replayed into the next STT
(with the VAD frames a segmented STT like Whisper needs) and only its transcript leaves the
switcher: the replayed frames themselves never go downstream twice.
"""

from __future__ import annotations

from collections import deque

from pipecat.frames.frames import (
    BotStartedSpeakingFrame,
    Frame,
    InputAudioRawFrame,
    TranscriptionFrame,
    VADUserStartedSpeakingFrame,
    VADUserStoppedSpeakingFrame,
)
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor

from services.failover.switcher import FailoverSwitcher

PREROLL_SECS = 0.5
MAX_ANSWER_SECS = 120.0


class STTFailover(FailoverSwitcher):
    stage = "stt"

    def __init__(self, services: list[FrameProcessor], **kwargs) -> None:
        super().__init__(services, **kwargs)
        self._audio: deque[InputAudioRawFrame] = deque()
        self._audio_secs = 0.0
        self._speaking = False
        self._awaiting_transcript = False

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        if isinstance(frame, InputAudioRawFrame):
            self._keep(frame)
        elif isinstance(frame, VADUserStartedSpeakingFrame) and not self._speaking and frame.id not in self.injected:
            self._speaking = True
            self._trim(PREROLL_SECS)
        elif isinstance(frame, VADUserStoppedSpeakingFrame) and self._speaking and frame.id not in self.injected:
            self._speaking = False
            self._awaiting_transcript = True
            self.arm("final transcript")
        elif isinstance(frame, BotStartedSpeakingFrame) and not self._speaking and not self._awaiting_transcript:
            await self.at_turn_boundary()  # the candidate is listening: a safe moment to probe the primary
        await super().process_frame(frame, direction)

    def turn_in_progress(self) -> bool:
        return self._speaking or self._awaiting_transcript

    async def on_output(self, service: FrameProcessor, frame: Frame) -> bool:
        if isinstance(frame, TranscriptionFrame) and self._awaiting_transcript and not self._speaking:
            self._awaiting_transcript = False
            self._trim(PREROLL_SECS)
            await self.succeeded(service)
        return True

    async def retry_turn(self, failed: FrameProcessor, reason: str) -> bool:
        if not self._audio:
            return False
        await self.inject(VADUserStartedSpeakingFrame(), FrameDirection.UPSTREAM)
        for frame in list(self._audio):
            await self.inject(InputAudioRawFrame(frame.audio, frame.sample_rate, frame.num_channels))
        if not self._speaking:
            await self.inject(VADUserStoppedSpeakingFrame(), FrameDirection.UPSTREAM)
            self.arm("final transcript")
        return True

    def _keep(self, frame: InputAudioRawFrame) -> None:
        self._audio.append(frame)
        self._audio_secs += _secs(frame)
        if not self.turn_in_progress():
            self._trim(PREROLL_SECS)
        else:
            self._trim(MAX_ANSWER_SECS)

    def _trim(self, keep_secs: float) -> None:
        while self._audio and self._audio_secs - _secs(self._audio[0]) >= keep_secs:
            self._audio_secs -= _secs(self._audio.popleft())


def _secs(frame: InputAudioRawFrame) -> float:
    return len(frame.audio) / (2 * frame.num_channels * frame.sample_rate)
