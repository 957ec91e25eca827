"""LatencyProbe: a pass-through at one point of the pipeline that stamps a turn's moments.

Six probes sit in `pipelines/interview.py`'s list (after the transport input, the STT, the
user side, the LLM, the TTS and the transport output); all of a session's probes stamp one
`LatencyTracker`, so a turn has one set of stamps and one record. Each point reacts only to
the frames first visible there (`latency/points.py`), so a frame crossing several probes is
stamped once.

A probe runs in direct mode (no queue or task of its own): the frame is stamped inside the
previous processor's push, so the stamp is the moment it left that processor and the probe
adds no wait. Measuring never breaks the conversation: a failing stamp is logged, the frame
goes on.

What Pipecat lacks: its `UserBotLatencyObserver` (kept alongside, see
`latency/instrumentation.py`) measures speech end -> bot speaking and a per-service breakdown,
but keeps no per-turn record, sees no listener mark and never judges against a budget.
"""

from __future__ import annotations

from loguru import logger
from pipecat.frames.frames import Frame
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor

from latency.points import LatencyPoint, PointHandlers
from latency.tracker import LatencyTracker


class LatencyProbe(FrameProcessor):
    """Stamps the frames passing downstream at `point` into `tracker`; pushes every frame on unchanged."""

    def __init__(self, tracker: LatencyTracker, point: LatencyPoint) -> None:
        super().__init__(name=f"LatencyProbe({point})", enable_direct_mode=True)
        self.tracker = tracker
        self.point = point
        self._handlers = PointHandlers(point)

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if direction is FrameDirection.DOWNSTREAM:
            handler = self._handlers.handler(frame)
            if handler is not None:
                try:
                    handler(self.tracker, frame, self.tracker.now())
                except Exception:  # measuring must never break the conversation
                    logger.exception(f"{self}: latency stamp failed for {frame}")
        await self.push_frame(frame, direction)
