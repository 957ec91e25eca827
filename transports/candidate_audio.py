"""Only the candidate's audio enters the pipeline, for room transports' inputs.

Pipecat 1.14's Daily and LiveKit inputs push every participant's audio; an
interview must not transcribe a recruiter or observer as the candidate. Mixed
into each transport's input class ahead of the Pipecat base.
"""

from __future__ import annotations

from typing import Any

from pipecat.frames.frames import InputAudioRawFrame, UserAudioRawFrame

from transports.room_candidate import CandidateGate


class CandidateOnlyAudio:
    def __init__(self, *args: Any, gate: CandidateGate, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._gate = gate

    async def push_audio_frame(self, frame: InputAudioRawFrame) -> None:
        if isinstance(frame, UserAudioRawFrame) and not self._gate.accepts_audio(frame.user_id):
            return
        await super().push_audio_frame(frame)  # type: ignore[misc]
