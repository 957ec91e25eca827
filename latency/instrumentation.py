"""Everything latency for one session: the tracker, our observer and Pipecat's, wired to the pipeline's points."""

from __future__ import annotations

from typing import Any

from pipecat.observers.base_observer import BaseObserver
from pipecat.observers.user_bot_latency_observer import UserBotLatencyObserver
from pipecat.processors.frame_processor import FrameProcessor

from interview.config import InterviewConfig
from latency.circuit_breaker import CircuitBreaker
from latency.observer import LatencyObserver
from latency.tracker import LatencyTracker
from processors.events import EventSink

# What PipelineParams must carry for Pipecat's per-service breakdown (TTFB, text aggregation).
REQUIRED_PIPELINE_PARAMS: dict[str, Any] = {"enable_metrics": True}


class LatencyInstrumentation:
    """The tracker plus the two observers that feed it.

    The pipeline names the processor at each point (`watch`), the worker gets
    `observers()` with `PipelineParams(..., **REQUIRED_PIPELINE_PARAMS)`, and the session calls
    `finalize()` at its end. Nothing is added to the frame path.
    """

    def __init__(self, tracker: LatencyTracker, *, pipecat_observer: UserBotLatencyObserver | None = None) -> None:
        self.tracker = tracker
        self.observer = LatencyObserver(tracker)
        self.pipecat_observer = pipecat_observer or UserBotLatencyObserver()
        tracker.attach_observer(self.pipecat_observer)

    @classmethod
    def for_session(cls, config: InterviewConfig, events: EventSink | None) -> LatencyInstrumentation:
        tracker = LatencyTracker(
            config.budget.latency,
            config.budget.latency_alerts,
            events=events,
            vad_stop_secs=config.turn_taking.vad_stop_secs,
        )
        return cls(tracker)

    @property
    def breaker(self) -> CircuitBreaker:
        """The latency breaker the failover wiring subscribes to."""
        return self.tracker.breaker

    def watch(
        self,
        *,
        input: FrameProcessor,
        stt: FrameProcessor,
        user: FrameProcessor,
        llm: FrameProcessor,
        tts: FrameProcessor,
        output: FrameProcessor,
    ) -> None:
        """The processor whose downstream pushes are each point's moments (see latency/observer.py)."""
        for point, processor in {
            "input": input,
            "stt": stt,
            "user": user,
            "llm": llm,
            "tts": tts,
            "output": output,
        }.items():
            self.observer.watch(point, processor)

    def observers(self) -> list[BaseObserver]:
        """Add these to PipelineWorker(observers=...); needs enable_metrics=True for the breakdown."""
        return [self.observer, self.pipecat_observer]

    def listener_playback_started(self, at: float | None = None, *, source: str = "twilio") -> bool:
        """For transports that learn about playback out of band (Twilio `mark` echoes)."""
        return self.tracker.listener_playback_started(at, source=source)

    def finalize(self) -> dict[str, Any]:
        return self.tracker.finalize()
