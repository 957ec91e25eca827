"""MicRecorder: Pipecat's stereo recorder, but it records the candidate's real microphone.

Why: :class:`processors.echo_gate.EchoGate` replaces inbound audio by silence while
the bot is audible, so a plain ``AudioBufferProcessor`` would record silence
wherever the candidate talked over the bot. The gate keeps the original audio in
``frame.metadata["echo_gate_original_audio"]``; this recorder puts it back before
recording. The frame pushed on is the restored copy: nothing after the recorder
(the assistant aggregator) uses inbound audio.
"""

from __future__ import annotations

from pipecat.frames.frames import Frame, InputAudioRawFrame
from pipecat.processors.audio.audio_buffer_processor import AudioBufferProcessor
from pipecat.processors.frame_processor import FrameDirection

from processors.echo_gate_audio import with_original_audio


class MicRecorder(AudioBufferProcessor):
    """``AudioBufferProcessor`` that records echo-gated frames with their original audio."""

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        if isinstance(frame, InputAudioRawFrame):
            frame = with_original_audio(frame)
        await super().process_frame(frame, direction)
