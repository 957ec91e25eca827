"""Only the candidate's audio enters the pipeline, for room transports.

Pipecat 1.14's Daily and LiveKit inputs push every participant's audio (tagged with
``user_id`` when ``audio_in_user_tracks`` is on); an interview must not transcribe a
recruiter or observer as the candidate. Pipecat's own ``FunctionFilter``, placed right
after ``transport.input()`` (the handle's ``after_input``), drops the others' frames
through public API.
"""

from __future__ import annotations

from pipecat.frames.frames import Frame, UserAudioRawFrame
from pipecat.processors.filters.function_filter import FunctionFilter

from transports.room_candidate import CandidateGate


def candidate_audio_filter(gate: CandidateGate) -> FunctionFilter:
    """A filter that passes every frame except room audio from someone other than the candidate."""

    async def is_candidate_or_not_audio(frame: Frame) -> bool:
        return not isinstance(frame, UserAudioRawFrame) or gate.accepts_audio(frame.user_id)

    # Input audio frames are system frames: FunctionFilter lets those through unless told otherwise.
    return FunctionFilter(is_candidate_or_not_audio, filter_system_frames=True, name="CandidateAudioFilter")
