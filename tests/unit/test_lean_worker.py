"""LeanPipelineWorker: observers see what they saw under PipelineWorker; events no one reads are not queued."""

from __future__ import annotations

import pipecat.tests.utils
import pytest
from pipecat.frames.frames import Frame, InputAudioRawFrame, TextFrame, TTSAudioRawFrame
from pipecat.observers.base_observer import BaseObserver, FrameProcessed, FramePushed
from pipecat.pipeline.pipeline import Pipeline
from pipecat.pipeline.worker import PipelineWorker
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor
from pipecat.processors.frameworks.rtvi.observer import RTVIObserver, RTVIObserverParams
from pipecat.tests.utils import SleepFrame, run_test

from pipelines.lean_worker import LeanPipelineWorker, ignores_audio_pushes, reads_processed_frames


class Recorder(BaseObserver):
    """Reads every push and every processed frame."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.pushed: list[tuple[str, bool]] = []
        self.processed: list[str] = []

    async def on_push_frame(self, data: FramePushed) -> None:
        self.pushed.append((type(data.frame).__name__, data.first_push))

    async def on_process_frame(self, data: FrameProcessed) -> None:
        self.processed.append(type(data.frame).__name__)


class FirstPushes(BaseObserver):
    """Reads first pushes only, never processed frames (as the session's latency and spend observers)."""

    def __init__(self) -> None:
        super().__init__(observe_every_push=False)
        self.pushed: list[str] = []

    async def on_push_frame(self, data: FramePushed) -> None:
        self.pushed.append(type(data.frame).__name__)


class Passes(FrameProcessor):
    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        await self.push_frame(frame, direction)


FRAMES = [
    *(InputAudioRawFrame(b"\x00\x00" * 320, 16000, 1) for _ in range(5)),
    TextFrame("hello"),
    *(TTSAudioRawFrame(b"\x00\x00" * 480, 24000, 1) for _ in range(3)),
    SleepFrame(0.1),
]


async def observed(worker_class: type[PipelineWorker], monkeypatch: pytest.MonkeyPatch):
    workers: list[PipelineWorker] = []

    class Kept(worker_class):  # type: ignore[valid-type, misc]
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            workers.append(self)

    monkeypatch.setattr(pipecat.tests.utils, "PipelineWorker", Kept)
    every, first = Recorder(), FirstPushes()
    await run_test(Pipeline([Passes(), Passes()]), frames_to_send=FRAMES, observers=[every, first], enable_rtvi=True)
    return every, first, workers[0]


async def test_observers_see_the_same_events_and_the_unread_ones_are_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    every, first, _ = await observed(PipelineWorker, monkeypatch)
    lean_every, lean_first, lean = await observed(LeanPipelineWorker, monkeypatch)

    def audio_and_text(names: list[str]) -> list[str]:  # start/end frames vary with the worker's own timing
        return [n for n in names if n in ("InputAudioRawFrame", "TTSAudioRawFrame", "TextFrame")]

    assert audio_and_text(lean_every.processed) == audio_and_text(every.processed) != []
    assert [p for p in lean_every.pushed if p[0] != "MetricsFrame"] == [
        p for p in every.pushed if p[0] != "MetricsFrame"
    ]
    sent = [type(f).__name__ for f in FRAMES if not isinstance(f, SleepFrame)]
    assert audio_and_text(lean_first.pushed) == audio_and_text(first.pushed) == sent  # each frame once
    assert lean._observer.skipped > 50  # type: ignore[attr-defined]  # processed frames for FirstPushes/RTVI/turn tracking, RTVI's audio


def test_what_counts_as_unread() -> None:
    assert reads_processed_frames(Recorder()) and not reads_processed_frames(FirstPushes())
    assert ignores_audio_pushes(RTVIObserver(None))  # type: ignore[arg-type]
    levels = RTVIObserverParams(bot_audio_level_enabled=True)
    assert not ignores_audio_pushes(RTVIObserver(None, params=levels))  # type: ignore[arg-type]
    assert not ignores_audio_pushes(Recorder())
