"""Pass-through processors that timestamp a turn for the LatencyTracker, and where they go.

A `LatencyProbe` looks at the frames passing one point of the pipeline, tells the
tracker when a frame it cares about goes by, and pushes every frame on unchanged.
It runs in direct mode (no queue of its own, no task hop), so it adds no wait and
its timestamps are the moment the frame left the previous processor.

Each point only reacts to the frames that are *first* visible there, so a frame
seen by several probes is stamped once:

    transport.input()  -> probe "input"   InputTransportMessageFrame: playback-started mark
    STT                -> probe "stt"     TranscriptionFrame (the user aggregator eats them)
    user aggregator    -> probe "user"    VAD / UserStarted/StoppedSpeaking, InterruptionFrame
    LLM                -> probe "llm"     first LLMTextFrame, function calls (TTS eats the text)
    TTS                -> probe "tts"     first TTSAudioRawFrame
    transport.output() -> probe "output"  BotStartedSpeakingFrame

`LatencyInstrumentation` builds the probes, the tracker and Pipecat's
`UserBotLatencyObserver` for one session.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from loguru import logger
from pipecat.frames.frames import (
    BotStartedSpeakingFrame,
    Frame,
    FunctionCallInProgressFrame,
    FunctionCallResultFrame,
    InputTransportMessageFrame,
    InterruptionFrame,
    LLMTextFrame,
    TranscriptionFrame,
    TTSAudioRawFrame,
    UserStartedSpeakingFrame,
    UserStoppedSpeakingFrame,
    VADUserStartedSpeakingFrame,
    VADUserStoppedSpeakingFrame,
)
from pipecat.observers.base_observer import BaseObserver
from pipecat.observers.user_bot_latency_observer import UserBotLatencyObserver
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor

from interview.config import InterviewConfig
from latency.circuit_breaker import CircuitBreaker
from latency.tracker import LatencyTracker
from processors.events import EventSink
from processors.resumed_answer import AnswerResumedFrame

PLAYBACK_STARTED = "playback-started"
RTVI_LABEL = "rtvi-ai"
# What PipelineParams must carry for the observer's per-service breakdown (TTFB, text aggregation).
REQUIRED_PIPELINE_PARAMS: dict[str, Any] = {"enable_metrics": True}

Handler = Callable[[LatencyTracker, Any], None]


def parse_playback_mark(message: Any) -> dict[str, Any] | None:
    """The payload of a playback-started message, RTVI-wrapped or plain, else None.

    RTVI form (what scripts/candidate_client.py sends):
        {"label": "rtvi-ai", "type": "client-message", "data": {"t": "playback-started", "d": {"turn": N, "client_time": T}}}
    Plain form (accepted too): {"type": "playback-started", "turn": N, "client_time": T}
    """
    if not isinstance(message, dict):
        return None
    if message.get("label") == RTVI_LABEL and message.get("type") == "client-message":
        data = message.get("data")
        if isinstance(data, dict) and data.get("t") == PLAYBACK_STARTED:
            payload = data.get("d")
            return payload if isinstance(payload, dict) else {}
        return None
    if message.get("type") == PLAYBACK_STARTED:
        return message
    return None


def _on_transport_message(tracker: LatencyTracker, frame: InputTransportMessageFrame) -> None:
    mark = parse_playback_mark(frame.message)
    if mark is None:
        return
    client_time = mark.get("client_time")
    turn = mark.get("turn")
    tracker.listener_playback_started(
        wall_time=float(client_time) if isinstance(client_time, (int, float)) else None,
        source="client",
        client_turn=turn if isinstance(turn, int) else None,
    )


def _on_vad_stopped(tracker: LatencyTracker, frame: VADUserStoppedSpeakingFrame) -> None:
    tracker.vad_user_stopped(stop_secs=frame.stop_secs or None, wall_time=frame.timestamp)


def _on_function_started(tracker: LatencyTracker, frame: FunctionCallInProgressFrame) -> None:
    tracker.function_call_started(frame.tool_call_id, frame.function_name)


def _on_function_result(tracker: LatencyTracker, frame: FunctionCallResultFrame) -> None:
    tracker.function_call_finished(frame.tool_call_id)


# point -> (frame class, handler); checked in order, first isinstance match wins.
POINT_HANDLERS: dict[str, tuple[tuple[type[Frame], Handler], ...]] = {
    "input": ((InputTransportMessageFrame, _on_transport_message),),
    "stt": ((TranscriptionFrame, lambda t, f: t.transcript_final()),),
    "user": (
        (VADUserStartedSpeakingFrame, lambda t, f: t.vad_user_started()),
        (VADUserStoppedSpeakingFrame, _on_vad_stopped),
        (AnswerResumedFrame, lambda t, f: t.false_end()),
        (UserStartedSpeakingFrame, lambda t, f: t.user_turn_started()),
        (UserStoppedSpeakingFrame, lambda t, f: t.turn_committed()),
        (InterruptionFrame, lambda t, f: t.interrupted()),
    ),
    "llm": (
        (LLMTextFrame, lambda t, f: t.llm_first_token()),
        (FunctionCallInProgressFrame, _on_function_started),
        (FunctionCallResultFrame, _on_function_result),
    ),
    "tts": ((TTSAudioRawFrame, lambda t, f: t.tts_first_audio()),),
    "output": ((BotStartedSpeakingFrame, lambda t, f: t.bot_started_speaking()),),
}
POINTS: tuple[str, ...] = tuple(POINT_HANDLERS)


class LatencyProbe(FrameProcessor):
    """Stamps the tracker on the downstream frames of its `point`; passes every frame through."""

    def __init__(self, tracker: LatencyTracker, point: str, **kwargs: Any) -> None:
        if point not in POINT_HANDLERS:
            raise ValueError(f"unknown probe point {point!r}; one of {POINTS}")
        kwargs.setdefault("name", f"LatencyProbe[{point}]")
        super().__init__(enable_direct_mode=True, **kwargs)
        self.tracker = tracker
        self.point = point
        self._rules = POINT_HANDLERS[point]
        self._by_class: dict[type[Frame], Handler | None] = {}

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if direction is FrameDirection.DOWNSTREAM:
            cls = type(frame)
            try:
                handler = self._by_class[cls]
            except KeyError:
                handler = self._by_class[cls] = next((h for c, h in self._rules if issubclass(cls, c)), None)
            if handler is not None:
                try:
                    handler(self.tracker, frame)
                except Exception:  # measuring must never break the conversation
                    logger.exception(f"{self}: latency stamp failed for {frame}")
        await self.push_frame(frame, direction)


class LatencyInstrumentation:
    """Everything latency for one session: tracker, probes (one per point), observer.

    Pipeline placement (each probe directly after the named processor)::

        transport.input(), inst.probe_after_input(),
        stt, inst.probe_after_stt(),
        user_aggregator, inst.probe_after_user_aggregator(),
        llm, inst.probe_after_llm(),
        tts, inst.probe_after_tts(),
        transport.output(), inst.probe_after_output(),
        ...

    Worker: `PipelineWorker(pipeline, params=PipelineParams(..., **REQUIRED_PIPELINE_PARAMS),
    observers=[*inst.observers(), ...])`; at session end `inst.finalize()`.
    """

    def __init__(self, tracker: LatencyTracker, *, observer: UserBotLatencyObserver | None = None) -> None:
        self.tracker = tracker
        self.observer = observer or UserBotLatencyObserver()
        tracker.attach_observer(self.observer)
        self._probes: dict[str, LatencyProbe] = {}

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

    def probe(self, point: str) -> LatencyProbe:
        """The probe for `point` (the same instance on every call: a processor lives in one pipeline)."""
        if point not in self._probes:
            self._probes[point] = LatencyProbe(self.tracker, point)
        return self._probes[point]

    def probe_after_input(self) -> LatencyProbe:
        return self.probe("input")

    def probe_after_stt(self) -> LatencyProbe:
        return self.probe("stt")

    def probe_after_user_aggregator(self) -> LatencyProbe:
        return self.probe("user")

    def probe_after_llm(self) -> LatencyProbe:
        return self.probe("llm")

    def probe_after_tts(self) -> LatencyProbe:
        return self.probe("tts")

    def probe_after_output(self) -> LatencyProbe:
        return self.probe("output")

    def observers(self) -> list[BaseObserver]:
        """Add these to PipelineWorker(observers=...); needs enable_metrics=True for the breakdown."""
        return [self.observer]

    def listener_playback_started(self, at: float | None = None, *, source: str = "twilio") -> bool:
        """For transports that learn about playback out of band (Twilio `mark` echoes)."""
        return self.tracker.listener_playback_started(at, source=source)

    def finalize(self) -> dict[str, Any]:
        return self.tracker.finalize()
