"""Playback marks: sent in order with the audio, echoes drive the echo gate and latency, barge-in forgets them."""

from __future__ import annotations

import asyncio

from pipecat.frames.frames import (
    EndWorkerFrame,
    InterruptionFrame,
    OutputTransportMessageFrame,
    TTSAudioRawFrame,
    TTSStartedFrame,
    TTSStoppedFrame,
)
from pipecat.processors.frame_processor import FrameDirection
from pipecat.tests.utils import SleepFrame, run_test

from frames.interview_frames import GoodbyeProbeFrame
from pipelines.listener_playback import ListenerPlayback
from transports.twilio_marks import EndAfterPlayback, PlaybackMarkInserter, PlaybackMarks


class Listener:
    def __init__(self) -> None:
        self.calls: list[tuple[str, float | None]] = []

    def playback_started(self, lead_secs: float) -> None:
        self.calls.append(("started", lead_secs))

    def playback_finished(self) -> None:
        self.calls.append(("finished", None))


def audio(ms: int = 40) -> TTSAudioRawFrame:
    return TTSAudioRawFrame(audio=bytes(16 * ms), sample_rate=8000, num_channels=1)


def names(frames) -> list[str]:
    return [f.message["mark"]["name"] for f in frames if isinstance(f, OutputTransportMessageFrame)]


async def test_marks_follow_the_first_audio_and_the_end_of_each_utterance() -> None:
    marks = PlaybackMarks("MZ1", call_sid="CA1")
    down, _ = await run_test(
        PlaybackMarkInserter(marks),
        frames_to_send=[
            TTSStartedFrame(),
            audio(),
            audio(),
            TTSStoppedFrame(),
            TTSStartedFrame(),
            audio(),
            TTSStoppedFrame(),
        ],
    )
    kinds = [type(f).__name__ for f in down]
    assert kinds == [
        "TTSStartedFrame",
        "TTSAudioRawFrame",
        "OutputTransportMessageFrame",
        "TTSAudioRawFrame",
        "TTSStoppedFrame",
        "OutputTransportMessageFrame",
        "TTSStartedFrame",
        "TTSAudioRawFrame",
        "OutputTransportMessageFrame",
        "TTSStoppedFrame",
        "OutputTransportMessageFrame",
    ]
    assert names(down) == ["start-1", "end-2", "start-3", "end-4"]
    message = next(f.message for f in down if isinstance(f, OutputTransportMessageFrame))
    assert message == {"event": "mark", "streamSid": "MZ1", "mark": {"name": "start-1"}}
    assert marks.outstanding == 4


def test_echoes_start_and_finish_playback_once_per_stretch_of_speech() -> None:
    marks = PlaybackMarks("MZ1")
    listener = Listener()
    marks.add_listener(listener)
    marks.new_mark("start", 0.04)
    marks.new_mark("end")
    marks.new_mark("start", 0.02)
    marks.echo("start-1")
    marks.echo("end-2")  # the next utterance's start is still outstanding: still audible
    marks.echo("start-3")
    marks.new_mark("end")
    marks.echo("end-4")
    marks.echo("bogus")
    assert listener.calls == [("started", 0.04), ("finished", None)]
    assert (marks.echoed, marks.unknown_echoes, marks.outstanding) == (4, 1, 0)


async def test_barge_in_forgets_outstanding_marks() -> None:
    marks = PlaybackMarks("MZ1")
    await run_test(
        PlaybackMarkInserter(marks),
        frames_to_send=[TTSStartedFrame(), audio(), SleepFrame(0.05), InterruptionFrame(), SleepFrame(0.05)],
    )
    assert marks.outstanding == 0 and marks.forgotten == 1 and not marks.utterance_open
    marks.echo("start-1")  # Twilio echoes cleared marks at once: ignored
    assert marks.unknown_echoes == 1


def test_forgetting_marks_ends_playback() -> None:
    marks = PlaybackMarks("MZ1")
    listener = Listener()
    marks.add_listener(listener)
    marks.new_mark("start", 0.04)
    marks.echo("start-1")
    marks.new_mark("end")
    marks.forget_all()
    assert listener.calls == [("started", 0.04), ("finished", None)]


async def test_session_end_waits_until_the_goodbye_was_heard() -> None:
    marks = PlaybackMarks("MZ1", call_sid="CA1")
    hold = EndAfterPlayback(marks, timeout_secs=5)

    async def phone() -> None:  # what the inserter and Twilio do meanwhile
        await asyncio.sleep(0.1)
        marks.new_mark("end")
        marks.goodbye_queued.set()
        await asyncio.sleep(0.3)
        marks.echo("end-1")

    task = asyncio.create_task(phone())
    loop = asyncio.get_running_loop()
    started = loop.time()
    down, _up = await run_test(
        hold,
        frames_to_send=[EndWorkerFrame(), SleepFrame(0.7)],
        frames_to_send_direction=FrameDirection.UPSTREAM,
        expected_up_frames=[EndWorkerFrame],
    )
    await task
    assert any(isinstance(f, GoodbyeProbeFrame) for f in down)
    assert loop.time() - started >= 0.4


async def test_probe_frame_is_swallowed_and_marks_the_goodbye_queued() -> None:
    marks = PlaybackMarks("MZ1")
    down, _ = await run_test(
        PlaybackMarkInserter(marks), frames_to_send=[TTSStartedFrame(), audio(), GoodbyeProbeFrame()]
    )
    assert marks.goodbye_queued.is_set()
    assert not any(isinstance(f, GoodbyeProbeFrame) for f in down)
    assert names(down) == ["start-1", "end-2"]


async def test_caller_hang_up_releases_the_wait_at_once() -> None:
    marks = PlaybackMarks("MZ1")
    marks.new_mark("start")
    marks.stream_stopped()
    assert await marks.wait_goodbye_heard(0.1)


def test_session_playback_feeds_echo_gate_and_latency_tracker_with_the_listener_time() -> None:
    class Gate:
        def __init__(self) -> None:
            self.events: list[str] = []

        def playback_started(self) -> None:
            self.events.append("started")

        def playback_finished(self) -> None:
            self.events.append("finished")

    class Tracker:
        def __init__(self) -> None:
            self.calls: list[dict] = []

        def listener_playback_started(self, **kwargs) -> None:
            self.calls.append(kwargs)

    gate, tracker = Gate(), Tracker()
    playback = ListenerPlayback(gate, tracker, wall_clock=lambda: 100.0)
    playback.playback_started(0.04)
    playback.playback_finished()
    assert gate.events == ["started", "finished"]
    assert tracker.calls == [{"wall_time": 99.96, "source": "twilio_mark"}]
