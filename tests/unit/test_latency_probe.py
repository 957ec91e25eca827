"""LatencyProbes in a pipeline: scripted frames -> one turn record; frames pass untouched, none is added."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from pipecat.frames.frames import (
    BotStartedSpeakingFrame,
    Frame,
    InputTransportMessageFrame,
    InterruptionFrame,
    LLMTextFrame,
    MetricsFrame,
    TranscriptionFrame,
    TTSAudioRawFrame,
    UserStartedSpeakingFrame,
    UserStoppedSpeakingFrame,
    VADUserStartedSpeakingFrame,
    VADUserStoppedSpeakingFrame,
)
from pipecat.pipeline.pipeline import Pipeline
from pipecat.pipeline.worker import PipelineParams
from pipecat.processors.frame_processor import FrameDirection
from pipecat.tests.utils import SleepFrame, run_test

from bots.session_record import SessionRecord
from interview.config import LatencyAlerts, LatencyBudget
from latency.instrumentation import REQUIRED_PIPELINE_PARAMS, LatencyInstrumentation
from latency.playback_marks import parse_playback_mark
from latency.points import POINTS
from latency.tracker import LatencyTracker
from latency.turn_record import MARKS
from processors.latency_probe import LatencyProbe
from scripts.candidate_client import playback_started_message

GAP = 0.05  # seconds between scripted frames


class LiveScript(list):
    """Frames to send, stamped with the time they are actually sent (run_test iterates lazily).

    In a session the VAD stamps its frame when it decides and the client stamps its mark when
    playback starts; these frames were built before the pipeline even started. `sent_reprs`
    keeps each frame as it went in, to show nothing changed them.
    """

    def __init__(self, frames: list[Frame]) -> None:
        super().__init__()
        for frame in frames:
            self += [frame, SleepFrame(GAP)]  # system frames overtake data frames: keep the order
        self.sent_reprs: list[str] = []

    def __iter__(self) -> Iterator[Frame]:
        for frame in super().__iter__():
            if isinstance(frame, VADUserStoppedSpeakingFrame):
                frame.timestamp = time.time()
            elif isinstance(frame, InputTransportMessageFrame) and parse_playback_mark(frame.message) is not None:
                frame.message["data"]["d"]["client_time"] = time.time() - 0.01  # heard 10 ms before it arrived
            if not isinstance(frame, SleepFrame):
                self.sent_reprs.append(repr(frame))
            yield frame


def instrumented_pipeline(inst: LatencyInstrumentation) -> Pipeline:
    """The six probes in pipeline order, nothing else: every frame passes every point.

    Each point stamps only the frames first visible there, so each frame is stamped once.
    """
    return Pipeline([LatencyProbe(inst.tracker, point) for point in POINTS])


def passed(frames: Sequence[Frame]) -> list[Frame]:
    """What came out, minus the worker's own MetricsFrame (enable_metrics)."""
    return [f for f in frames if not isinstance(f, MetricsFrame)]


def make_instrumentation(events: Any = None) -> LatencyInstrumentation:
    tracker = LatencyTracker(LatencyBudget(), LatencyAlerts(), events=events, vad_stop_secs=0.2)
    return LatencyInstrumentation(tracker)


def audio() -> TTSAudioRawFrame:
    return TTSAudioRawFrame(audio=b"\x00\x00" * 480, sample_rate=24000, num_channels=1)


async def test_scripted_turn_produces_one_ordered_record_and_frames_pass_unchanged(tmp_path: Path) -> None:
    record = SessionRecord.create(tmp_path, "t")
    inst = make_instrumentation(record)
    sent = [
        VADUserStartedSpeakingFrame(),
        UserStartedSpeakingFrame(),
        VADUserStoppedSpeakingFrame(stop_secs=0.2),
        TranscriptionFrame("I built the billing queue.", "candidate", "2026-01-01T00:00:00Z"),
        UserStoppedSpeakingFrame(),
        LLMTextFrame("Tell"),
        LLMTextFrame(" me more."),
        audio(),
        audio(),
        BotStartedSpeakingFrame(),
        InputTransportMessageFrame(message=playback_started_message(1, 0.0)),
    ]
    script = LiveScript(sent)
    down, up = await run_test(
        instrumented_pipeline(inst),
        frames_to_send=script,
        observers=inst.observers(),
        pipeline_params=PipelineParams(**REQUIRED_PIPELINE_PARAMS),
    )
    down = passed(down)
    assert len(down) == len(sent) and all(a is b for a, b in zip(down, sent))  # the very same objects
    assert [repr(f) for f in down] == script.sent_reprs  # and unchanged
    assert up == []

    summary = inst.finalize()
    record.close()
    [turn] = summary["turns"]
    assert turn["status"] == "complete" and turn["completed_by"] == "listener_mark"
    assert turn["listener"]["source"] == "client" and turn["listener"]["client_turn"] == 1
    assert turn["listener"]["clock"] == "listener"
    marks = [turn["marks_ms"][m] for m in MARKS]
    assert None not in marks and marks == sorted(marks)
    for stage in ("endpointing", "stt", "llm_ttfb", "tts_ttfb", "transport", "listener"):
        assert turn["stages_ms"][stage] is not None, stage
    # 200 ms of VAD silence plus at least one gap before the commit
    assert turn["stages_ms"]["endpointing"] >= 200 + GAP * 1000 * 0.8
    assert turn["stages_ms"]["llm_ttfb"] >= GAP * 1000 * 0.8
    assert turn["voice_to_listener_ms"] > turn["voice_to_voice_ms"] > 200 + 6 * GAP * 1000 * 0.8
    # Pipecat's observer measured the same cycle (from the same VAD frame) and was merged in
    assert turn["pipecat"] is not None
    assert turn["pipecat"]["voice_to_voice_ms"] == pytest.approx(turn["voice_to_voice_ms"], abs=25)
    assert (tmp_path / "t" / "latency.json").exists()
    assert "turn_latency" in (tmp_path / "t" / "events.jsonl").read_text()


async def test_turn_interrupted_before_the_bot_spoke_is_recorded() -> None:
    inst = make_instrumentation()
    sent = [
        UserStartedSpeakingFrame(),
        VADUserStoppedSpeakingFrame(stop_secs=0.2),
        TranscriptionFrame("So the first thing", "candidate", "2026-01-01T00:00:00Z"),
        UserStoppedSpeakingFrame(),
        LLMTextFrame("Great"),
        VADUserStartedSpeakingFrame(),  # the candidate carries on
        UserStartedSpeakingFrame(),
        InterruptionFrame(),
    ]
    down, _ = await run_test(
        instrumented_pipeline(inst),
        frames_to_send=LiveScript(sent),
        expected_down_frames=[type(f) for f in sent],
        observers=inst.observers(),
    )
    assert all(a is b for a, b in zip(down, sent))
    [turn] = inst.finalize()["turns"]
    assert turn["status"] == "interrupted" and turn["interrupted"] and turn["completed_by"] == "next_turn"
    assert turn["stages_ms"]["llm_ttfb"] is not None and turn["total_ms"] is None


async def test_reply_without_a_mark_is_recorded_at_session_end() -> None:
    inst = make_instrumentation()
    sent = [
        UserStartedSpeakingFrame(),
        VADUserStoppedSpeakingFrame(stop_secs=0.2),
        UserStoppedSpeakingFrame(),
        LLMTextFrame("Thanks."),
        audio(),
        BotStartedSpeakingFrame(),
    ]
    await run_test(instrumented_pipeline(inst), frames_to_send=LiveScript(sent), observers=inst.observers())
    [turn] = inst.finalize()["turns"]
    assert turn["status"] == "complete" and turn["completed_by"] == "session_end"
    assert turn["voice_to_listener_ms"] is None and turn["total_ms"] is not None


async def test_upstream_frames_are_passed_but_not_stamped() -> None:
    inst = make_instrumentation()
    sent = [UserStartedSpeakingFrame(), UserStoppedSpeakingFrame(), BotStartedSpeakingFrame()]
    _, up = await run_test(
        instrumented_pipeline(inst),
        frames_to_send=LiveScript(sent),
        frames_to_send_direction=FrameDirection.UPSTREAM,
        expected_up_frames=[type(f) for f in sent],
        observers=inst.observers(),
    )
    assert all(a is b for a, b in zip(up, sent))
    assert inst.finalize()["turns"] == []


def test_an_unknown_point_fails_naming_the_points() -> None:
    inst = make_instrumentation()
    assert inst.breaker is inst.tracker.breaker
    with pytest.raises(ValueError, match="unknown latency point 'after_everything'"):
        LatencyProbe(inst.tracker, "after_everything")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (playback_started_message(3, 12.5), {"turn": 3, "client_time": 12.5}),
        (
            {"type": "playback-started", "turn": 2, "client_time": 1.0},
            {"type": "playback-started", "turn": 2, "client_time": 1.0},
        ),
        ({"label": "rtvi-ai", "type": "client-message", "id": "x", "data": {"t": "other", "d": {}}}, None),
        ({"label": "rtvi-ai", "type": "client-ready", "id": "x", "data": {}}, None),
        ("not a dict", None),
    ],
)
def test_parse_playback_mark(message: Any, expected: dict[str, Any] | None) -> None:
    assert parse_playback_mark(message) == expected


def test_client_message_is_valid_rtvi() -> None:
    from pipecat.processors.frameworks.rtvi.models import Message, RawClientMessageData

    message = Message.model_validate(playback_started_message(1, 1.5))  # RTVI rejects it without an id
    assert message.type == "client-message"
    assert RawClientMessageData.model_validate(message.data).t == "playback-started"


async def test_a_stamp_is_the_moment_the_frame_passes_its_point() -> None:
    """Direct mode: the probe stamps inside the previous processor's push, on the tracker's clock."""
    now = [100.0]
    tracker = LatencyTracker(LatencyBudget(), LatencyAlerts(), events=None, vad_stop_secs=0.2, clock=lambda: now[0])
    user, llm = LatencyProbe(tracker, "user"), LatencyProbe(tracker, "llm")

    class Advance(LatencyProbe):
        """Moves the fake clock on as each frame passes (stands for the time between the two points)."""

        async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
            now[0] += 0.3
            await super().process_frame(frame, direction)

    sent = [UserStoppedSpeakingFrame(), LLMTextFrame("not a user-side frame"), LLMTextFrame("Thanks.")]
    await run_test(Pipeline([user, Advance(tracker, "tts"), llm]), frames_to_send=sent)
    [turn] = tracker.finalize()["turns"]
    assert turn["stages_ms"]["llm_ttfb"] == pytest.approx(600.0)  # two frames passed the clock on: 2 x 0.3 s
