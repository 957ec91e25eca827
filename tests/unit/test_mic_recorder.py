"""MicRecorder records the candidate's real microphone even where the echo gate silenced it."""

from __future__ import annotations

import numpy as np
from pipecat.frames.frames import BotStartedSpeakingFrame, Frame, InputAudioRawFrame
from pipecat.pipeline.pipeline import Pipeline
from pipecat.processors.audio.audio_buffer_processor import AudioBufferProcessor
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor
from pipecat.tests.utils import SleepFrame, run_test

from interview.config import EchoGateSettings
from processors.echo_gate import EchoGate
from processors.mic_recorder import MicRecorder

RATE = 16000


class Tap(FrameProcessor):
    """Keeps the inbound audio exactly as the gate pushed it."""

    def __init__(self) -> None:
        super().__init__()
        self.audio: list[bytes] = []

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if isinstance(frame, InputAudioRawFrame):
            self.audio.append(frame.audio)
        await self.push_frame(frame, direction)


def mic_frames(secs: float = 0.4, rms: float = 0.04) -> list[InputAudioRawFrame]:
    """20 ms frames of a 300 Hz tone: echo level, below the barge-in threshold."""
    t = np.arange(int(secs * RATE)) / RATE
    pcm = (np.sin(2 * np.pi * 300 * t) * rms * np.sqrt(2) * 32767).astype("<i2").tobytes()
    return [
        InputAudioRawFrame(audio=pcm[i : i + 640], sample_rate=RATE, num_channels=1) for i in range(0, len(pcm), 640)
    ]


async def record_left_channel(recorder: AudioBufferProcessor) -> tuple[np.ndarray, Tap]:
    """Bot speaking, candidate audio through gate -> tap -> recorder; returns the recorded left channel."""
    recordings: list[bytes] = []

    @recorder.event_handler("on_audio_data")
    async def _on_audio(_recorder: AudioBufferProcessor, audio: bytes, sample_rate: int, num_channels: int) -> None:
        assert (sample_rate, num_channels) == (RATE, 2)
        recordings.append(audio)

    tap = Tap()
    frames: list[Frame] = [BotStartedSpeakingFrame(), SleepFrame(0.05), *mic_frames()]
    await run_test(Pipeline([EchoGate(EchoGateSettings()), tap, recorder]), frames_to_send=frames)
    stereo = np.frombuffer(b"".join(recordings), dtype="<i2")
    return stereo[0::2], tap


async def test_gated_frames_are_recorded_with_their_original_audio() -> None:
    left, tap = await record_left_channel(MicRecorder(sample_rate=RATE, num_channels=2, auto_start_recording=True))

    assert len(tap.audio) == 20 and not any(b"".join(tap.audio))  # what the STT/VAD got: silence
    expected = np.frombuffer(b"".join(f.audio for f in mic_frames()), dtype="<i2")
    assert np.array_equal(left, expected)  # what the recording kept: the real microphone


async def test_plain_audio_buffer_processor_would_record_the_silence() -> None:
    left, _ = await record_left_channel(
        AudioBufferProcessor(sample_rate=RATE, num_channels=2, auto_start_recording=True)
    )
    assert len(left) == 0.4 * RATE and not left.any()
