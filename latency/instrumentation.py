"""Everything latency for one session: the tracker its probes stamp, Pipecat's latency observer, the breaker."""

from __future__ import annotations

from typing import Any

from pipecat.observers.base_observer import BaseObserver
from pipecat.observers.user_bot_latency_observer import UserBotLatencyObserver

from interview.config import InterviewConfig
from interview.events import EventSink
from latency.circuit_breaker import CircuitBreaker
from latency.tracker import LatencyTracker

# What PipelineParams must carry for Pipecat's per-service breakdown (TTFB, text aggregation).
REQUIRED_PIPELINE_PARAMS: dict[str, Any] = {"enable_metrics": True}


class LatencyInstrumentation:
    """The tracker the pipeline's `LatencyProbe`s stamp, plus Pipecat's observer merged into it.

    The pipeline puts one `processors.latency_probe.LatencyProbe(instrumentation.tracker, point)`
    at each point, the worker gets `observers()` with `PipelineParams(..., **REQUIRED_PIPELINE_PARAMS)`,
    and the session calls `finalize()` at its end.
    """

    def __init__(self, tracker: LatencyTracker, *, pipecat_observer: UserBotLatencyObserver | None = None) -> None:
        self.tracker = tracker
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

    def observers(self) -> list[BaseObserver]:
        """Add these to PipelineWorker(observers=...); needs enable_metrics=True for the breakdown."""
        return [self.pipecat_observer]

    def listener_playback_started(self, at: float | None = None, *, source: str = "twilio") -> bool:
        """For transports that learn about playback out of band (Twilio `mark` echoes)."""
        return self.tracker.listener_playback_started(at, source=source)

    def finalize(self) -> dict[str, Any]:
        return self.tracker.finalize()
