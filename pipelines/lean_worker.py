"""A `PipelineWorker` whose observer proxy hands each observer only the events it can use.

What Pipecat 1.14 lacks: its `WorkerObserver` gives every observer its own queue and task, and
puts every `FrameProcessed` (each frame at each processor: ~20 processors × ~100 audio frames a
second) on every observer's queue, although none of the observers a session has (the latency
observer, the spend meter, turn tracking, RTVI's, the idle monitor) overrides `on_process_frame`;
and RTVI's observer, which observes every push, drops audio frames at once unless audio levels
are reported. Each such event is a queue put, a task wake-up and a no-op call on the event loop
(issue #32: the proxy was ~3.5-5 % of a session's CPU). This proxy skips exactly those events:
what every observer sees is unchanged.

    worker = LeanPipelineWorker(pipeline, params=..., observers=[...])  # as PipelineWorker
"""

from __future__ import annotations

from typing import Any

from pipecat.frames.frames import AudioRawFrame
from pipecat.observers.base_observer import BaseObserver, FrameProcessed, FramePushed
from pipecat.pipeline.worker import PipelineWorker
from pipecat.pipeline.worker_observer import WorkerObserver
from pipecat.processors.frameworks.rtvi.observer import RTVIObserver


def reads_processed_frames(observer: BaseObserver) -> bool:
    """Whether the observer's class overrides `on_process_frame` (the base one does nothing)."""
    return type(observer).on_process_frame is not BaseObserver.on_process_frame


def ignores_audio_pushes(observer: BaseObserver) -> bool:
    """RTVI's observer returns at once for audio frames when it reports no audio levels."""
    if type(observer).on_push_frame is not RTVIObserver.on_push_frame:
        return False
    params = getattr(observer, "_params", None)
    return params is not None and not (params.user_audio_level_enabled or params.bot_audio_level_enabled)


class SelectiveWorkerObserver(WorkerObserver):
    """`WorkerObserver` that does not queue events an observer provably ignores."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.skipped = 0  # events not queued (for tests and benchmarks)
        self._reads_processed: dict[BaseObserver, bool] = {}
        self._ignores_audio: dict[BaseObserver, bool] = {}

    async def on_process_frame(self, data: FrameProcessed) -> None:
        if not self._proxies:
            return
        for observer, proxy in self._proxies.items():
            reads = self._reads_processed.get(observer)
            if reads is None:
                reads = self._reads_processed[observer] = reads_processed_frames(observer)
            if reads:
                await proxy.queue.put(data)
            else:
                self.skipped += 1

    async def on_push_frame(self, data: FramePushed) -> None:
        if not self._proxies:
            return
        frame = data.frame
        data.first_push = frame.id not in self._frames_pushed
        if data.first_push:
            self._frames_pushed[frame.id] = frame
        audio = isinstance(frame, AudioRawFrame)
        for observer, proxy in self._proxies.items():
            if not (data.first_push or observer.observe_every_push):
                continue
            if audio:
                ignores = self._ignores_audio.get(observer)
                if ignores is None:
                    ignores = self._ignores_audio[observer] = ignores_audio_pushes(observer)
                if ignores:
                    self.skipped += 1
                    continue
            await proxy.queue.put(data)


class LeanPipelineWorker(PipelineWorker):
    """`PipelineWorker` with `SelectiveWorkerObserver` as its observer proxy (same arguments)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The proxy is built at the end of PipelineWorker.__init__ and only used from setup() on.
        self._observer = SelectiveWorkerObserver(observers=self._observer._observers)
