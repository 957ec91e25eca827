"""The interview clock as the candidate page sees it: built from config + state, sent by the tracker."""

from __future__ import annotations

import asyncio
from pathlib import Path

from pipecat.processors.frameworks.rtvi.frames import RTVIServerMessageFrame
from pipecat.tests.utils import SleepFrame, run_test

from interview.loader import load_interview_config
from interview.progress import PROGRESS_MESSAGE, progress_message, session_message
from interview.state import InterviewState
from tests.unit.test_phase_tracker import FakeCall, FakeClock, make_tracker

CONFIG = load_interview_config("senior_backend_engineer")


def test_progress_counts_down_phase_and_interview() -> None:
    state = InterviewState.start(CONFIG, 100.0)
    message = progress_message(CONFIG, state, 160.0)
    assert message["type"] == PROGRESS_MESSAGE
    assert (message["phase_id"], message["phase_index"], message["phase_count"]) == (
        "introduction",
        1,
        len(CONFIG.phases),
    )
    assert message["phase_seconds_left"] == CONFIG.phases[0].duration_seconds - 60
    assert message["interview_seconds_left"] == CONFIG.duration_minutes * 60 - 60
    assert message["ended"] is False and message["outcome"] is None


def test_progress_never_goes_negative_and_stops_at_the_end() -> None:
    state = InterviewState.start(CONFIG, 0.0)
    state.end("all done", 10_000.0)
    late = progress_message(CONFIG, state, 20_000.0, outcome="completed")
    assert late["phase_seconds_left"] == 0 and late["interview_seconds_left"] == 0
    assert late["elapsed_seconds"] == 10_000.0  # the clock stopped when the interview ended
    assert (late["ended"], late["end_reason"], late["outcome"]) == (True, "all done", "completed")


def test_session_message_names_the_record() -> None:
    message = session_message(CONFIG, "abc", "/records/abc")
    assert message == {**message, "session_id": "abc", "record": "abc", "company": CONFIG.company.name}


def progress_frames(frames: list) -> list[dict]:
    return [f.data for f in frames if isinstance(f, RTVIServerMessageFrame) and f.data["type"] == PROGRESS_MESSAGE]


async def test_tracker_sends_progress_at_start_on_phase_change_and_at_the_end(tmp_path: Path) -> None:
    clock = FakeClock()
    tracker, _, _ = make_tracker(tmp_path, clock, tick_secs=0.02, progress_every_secs=1000)

    async def interview() -> None:
        await tracker.begin()
        await asyncio.sleep(0.1)
        clock.now += 30
        await tracker.handle_tool(FakeCall("transition_section", {"phase_id": "system_design", "reason": "ok"}))
        await asyncio.sleep(0.1)
        await tracker.handle_tool(FakeCall("end_interview", {"reason": "done"}))

    running = asyncio.create_task(interview())
    down, _ = await run_test(tracker, frames_to_send=[SleepFrame(sleep=0.5)])
    await running
    sent = progress_frames(down)
    assert [m["phase_id"] for m in sent] == ["introduction", "system_design", "system_design"]
    assert sent[-1]["ended"] is True and sent[-1]["outcome"] == "completed"


async def test_tracker_repeats_progress_every_few_seconds(tmp_path: Path) -> None:
    clock = FakeClock()
    tracker, _, _ = make_tracker(tmp_path, clock, tick_secs=0.02, progress_every_secs=5)

    async def time_passes() -> None:
        await tracker.begin()
        for _ in range(12):
            await asyncio.sleep(0.03)
            clock.now += 1

    running = asyncio.create_task(time_passes())
    down, _ = await run_test(tracker, frames_to_send=[SleepFrame(sleep=0.5)])
    await running
    left = [m["interview_seconds_left"] for m in progress_frames(down)]
    assert len(left) >= 3 and left == sorted(left, reverse=True) and len(set(left)) == len(left)
