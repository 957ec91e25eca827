"""LatencyObserver: one Pipecat observer stamps a turn's moments where six probes used to sit in the pipeline.

Pipecat hands every frame push to observers (`FramePushed`: source, direction, timestamp on
the pipeline clock), so the moments of a turn are read off the pushes out of six processors
instead of six pass-through processors in the frame path. Each point reacts only to the frames
first visible there, so a frame leaving several points is stamped once:

    transport input   InputTransportMessageFrame: the listener's playback-started mark
    STT               TranscriptionFrame (the user aggregator eats them)
    user side         VAD / UserStarted/StoppedSpeaking, AnswerResumedFrame, InterruptionFrame
    LLM               first LLMTextFrame, function calls (the TTS eats the text)
    TTS               first TTSAudioRawFrame
    transport output  BotStartedSpeakingFrame

A point is a processor *instance* (`watch`), not a frame type: a late transcript from a failed
STT that the failover gate drops never leaves the STT slot, so it is never stamped; an
InterruptionFrame a TTS failover pushes downstream of the user side is no barge-in.

Observers run later, in their own task (Pipecat's `WorkerObserver` queues every push), so the
time of a stamp is the push's own timestamp, carried over to the tracker's clock, not the
moment the observer got to it.

What Pipecat lacks: its `UserBotLatencyObserver` (kept alongside, `LatencyInstrumentation`)
measures speech end -> bot started speaking and a per-service breakdown, but keeps no per-turn
record, sees no listener mark and never judges against a budget: the tracker does that.
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
from pipecat.observers.base_observer import BaseObserver, FramePushed
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor

from latency.playback_marks import parse_playback_mark
from latency.tracker import LatencyTracker
from processors.resumed_answer import AnswerResumedFrame

# (tracker, frame, time of the push on the tracker's clock) -> None
Handler = Callable[[LatencyTracker, Any, float], None]


def _on_transport_message(tracker: LatencyTracker, frame: InputTransportMessageFrame, at: float) -> None:
    mark = parse_playback_mark(frame.message)
    if mark is None:
        return
    client_time = mark.get("client_time")
    turn = mark.get("turn")
    tracker.listener_playback_started(
        at,
        wall_time=float(client_time) if isinstance(client_time, (int, float)) else None,
        source="client",
        client_turn=turn if isinstance(turn, int) else None,
    )


def _on_vad_stopped(tracker: LatencyTracker, frame: VADUserStoppedSpeakingFrame, at: float) -> None:
    # The VAD stamps its own decision in wall time; that is nearer the speech than the push.
    tracker.vad_user_stopped(stop_secs=frame.stop_secs or None, wall_time=frame.timestamp)


# point -> (frame class, handler); checked in order, first isinstance match wins.
POINT_HANDLERS: dict[str, tuple[tuple[type[Frame], Handler], ...]] = {
    "input": ((InputTransportMessageFrame, _on_transport_message),),
    "stt": ((TranscriptionFrame, lambda t, f, at: t.transcript_final(at)),),
    "user": (
        (VADUserStartedSpeakingFrame, lambda t, f, at: t.vad_user_started()),
        (VADUserStoppedSpeakingFrame, _on_vad_stopped),
        (AnswerResumedFrame, lambda t, f, at: t.false_end()),
        (UserStartedSpeakingFrame, lambda t, f, at: t.user_turn_started()),
        (UserStoppedSpeakingFrame, lambda t, f, at: t.turn_committed(at)),
        (InterruptionFrame, lambda t, f, at: t.interrupted()),
    ),
    "llm": (
        (LLMTextFrame, lambda t, f, at: t.llm_first_token(at)),
        (FunctionCallInProgressFrame, lambda t, f, at: t.function_call_started(f.tool_call_id, f.function_name, at)),
        (FunctionCallResultFrame, lambda t, f, at: t.function_call_finished(f.tool_call_id, at)),
    ),
    "tts": ((TTSAudioRawFrame, lambda t, f, at: t.tts_first_audio(at)),),
    "output": ((BotStartedSpeakingFrame, lambda t, f, at: t.bot_started_speaking(at)),),
}
POINTS: tuple[str, ...] = tuple(POINT_HANDLERS)


class _Point:
    """The frames one watched processor pushes that the tracker cares about (class lookups cached)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._rules = POINT_HANDLERS[name]
        self._by_class: dict[type[Frame], Handler | None] = {}

    def handler(self, frame: Frame) -> Handler | None:
        cls = type(frame)
        try:
            return self._by_class[cls]
        except KeyError:
            found = self._by_class[cls] = next((h for c, h in self._rules if issubclass(cls, c)), None)
            return found


class LatencyObserver(BaseObserver):
    """Feeds the tracker from the downstream pushes of the watched processors; sees every push, stamps a few."""

    def __init__(self, tracker: LatencyTracker, **kwargs: Any) -> None:
        super().__init__(**kwargs)  # every push: a frame counts where it leaves a point, not where it was made
        self.tracker = tracker
        self._points: dict[FrameProcessor, _Point] = {}

    def watch(self, point: str, processor: FrameProcessor) -> None:
        """Stamp the frames `processor` pushes downstream as the moments of `point` (one processor per point)."""
        if point not in POINT_HANDLERS:
            raise ValueError(f"unknown latency point {point!r}; one of {POINTS}")
        if any(p.name == point for p in self._points.values()):
            raise ValueError(f"latency point {point!r} is already watched")
        self._points[processor] = _Point(point)

    async def on_push_frame(self, data: FramePushed) -> None:
        point = self._points.get(data.source)
        if point is None or data.direction is not FrameDirection.DOWNSTREAM:
            return
        handler = point.handler(data.frame)
        if handler is None:
            return
        try:
            handler(self.tracker, data.frame, self._pushed_at(data))
        except Exception:  # measuring must never break the conversation
            logger.exception(f"{self}: latency stamp failed for {data.frame}")

    def _pushed_at(self, data: FramePushed) -> float:
        """The push's pipeline-clock timestamp on the tracker's clock (the observer runs after the push)."""
        try:
            lag_secs = max(0, data.source.get_clock().get_time() - data.timestamp) / 1e9
        except Exception:  # a processor without a clock (not set up): the push is now
            lag_secs = 0.0
        return self.tracker.now() - lag_secs
