"""The six points of the pipeline where a turn's moments are stamped, and what each one stamps.

Each point reacts only to the frames first visible there, so a frame passing several points
is stamped once:

    input   (after the transport input)   InputTransportMessageFrame: the listener's playback-started mark
    stt     (after the STT)               TranscriptionFrame (the user aggregator eats them)
    user    (after the user side)         VAD / UserStarted/StoppedSpeaking, AnswerResumedFrame, InterruptionFrame
    llm     (after the LLM)               first LLMTextFrame, function calls (the TTS eats the text)
    tts     (after the TTS)               first TTSAudioRawFrame
    output  (after the transport output)  BotStartedSpeakingFrame

A point is a place in the pipeline, not a frame type: a late transcript from a failed STT that
the failover gate drops never passes the STT point, so it is never stamped; an
InterruptionFrame a TTS failover pushes downstream of the user side is no barge-in.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

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

from frames.interview_frames import AnswerResumedFrame
from latency.playback_marks import parse_playback_mark
from latency.tracker import LatencyTracker

LatencyPoint = Literal["input", "stt", "user", "llm", "tts", "output"]

# (tracker, frame, time of the stamp on the tracker's clock) -> None
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
    # The VAD stamps its own decision in wall time; that is nearer the speech than the frame's passing.
    tracker.vad_user_stopped(stop_secs=frame.stop_secs or None, wall_time=frame.timestamp)


# point -> (frame class, handler); checked in order, first isinstance match wins.
POINT_HANDLERS: dict[LatencyPoint, tuple[tuple[type[Frame], Handler], ...]] = {
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
POINTS: tuple[LatencyPoint, ...] = tuple(POINT_HANDLERS)


class PointHandlers:
    """The handler for each frame class at one point (lookups cached: 50 audio frames a second pass)."""

    def __init__(self, point: LatencyPoint) -> None:
        if point not in POINT_HANDLERS:
            raise ValueError(f"unknown latency point {point!r}; one of {POINTS}")
        self._rules = POINT_HANDLERS[point]
        self._by_class: dict[type[Frame], Handler | None] = {}

    def handler(self, frame: Frame) -> Handler | None:
        cls = type(frame)
        try:
            return self._by_class[cls]
        except KeyError:
            found = self._by_class[cls] = next((h for c, h in self._rules if issubclass(cls, c)), None)
            return found
