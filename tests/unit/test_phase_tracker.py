"""The phase tracker: tools, the interview clock (hours in milliseconds), hard stop, resume."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipecat.frames.frames import EndWorkerFrame, TTSSpeakFrame
from pipecat.processors.aggregators.llm_context import LLMContext
from pipecat.processors.frameworks.rtvi.frames import RTVIServerMessageFrame
from pipecat.tests.utils import SleepFrame, run_test

from bots.session_record import SessionRecord
from interview.loader import load_interview_config
from interview.pacing import MARKER, RESUME_MARKER, WRAP_UP_MARKER
from interview.state import InterviewState
from interview.structured_interviewer import StructuredInterviewer
from processors.phase_tracker import PhaseTracker

CONFIG = load_interview_config("senior_backend_engineer")


@dataclass
class FakeClock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class FakeCall:
    """Stands in for Pipecat's FunctionCallParams: the tracker uses these fields only."""

    function_name: str
    arguments: dict[str, Any]
    results: list[tuple[str, Any]] = field(default_factory=list)

    async def result_callback(self, result: str, *, properties: Any = None) -> None:
        self.results.append((result, properties))


def make_tracker(tmp_path: Path, clock: FakeClock, **kwargs: Any) -> tuple[PhaseTracker, LLMContext, SessionRecord]:
    context = LLMContext(messages=[{"role": "system", "content": "prompt"}])
    record = SessionRecord.create(tmp_path, f"s{len(list(tmp_path.iterdir()))}")
    return PhaseTracker(CONFIG, context, events=record, clock=clock, **kwargs), context, record


def clock_messages(context: LLMContext) -> list[str]:
    return [m["content"] for m in context.get_messages() if m["role"] == "system" and m["content"].startswith(MARKER)]


def events_of(record: SessionRecord, kind: str) -> list[dict]:
    lines = [json.loads(line) for line in record.events_path.read_text().splitlines()]
    return [e for e in lines if e["type"] == kind]


async def test_begin_injects_first_phase_and_saves_state(tmp_path: Path) -> None:
    clock = FakeClock()
    tracker, context, record = make_tracker(tmp_path, clock)
    await tracker.begin()
    assert clock_messages(context) == [
        f"{MARKER} Now in phase Introduction [introduction], about 5 minutes. {CONFIG.phases[0].prompt_suffix}"
    ]
    saved = json.loads((record.directory / "state.json").read_text())
    assert saved["current_phase"] == "introduction" and saved["started_at"] == clock.now


async def test_two_hours_of_interview_in_milliseconds(tmp_path: Path) -> None:
    clock = FakeClock()
    tracker, context, record = make_tracker(tmp_path, clock)
    await tracker.begin()
    pushed: list[Any] = []

    async def capture(frame: Any, direction: Any = None) -> None:
        pushed.append(frame)

    tracker.push_frame = capture  # type: ignore[method-assign]
    for second in range(2 * 3600):
        clock.now += 1
        if second == 240:  # the candidate finishes the introduction after four minutes
            await tracker.handle_tool(FakeCall("transition_section", {"phase_id": "system_design", "reason": "done"}))
        await tracker.check_time()
    warnings = events_of(record, "phase_time_warning")
    assert [w["phase"] for w in warnings] == ["introduction", "system_design"]
    assert warnings[0]["seconds_in_phase"] == 240.0  # 80 % of 300 s
    assert (
        len(events_of(record, "rubric_reminder")) == 1
        and events_of(record, "rubric_reminder")[0]["elapsed_seconds"] == 1350.0
    )
    assert len(events_of(record, "wrap_up")) == 1 and events_of(record, "wrap_up")[0]["elapsed_seconds"] == 2700.0
    assert len(events_of(record, "session_timeout")) == 1
    assert any(m.startswith(WRAP_UP_MARKER) for m in clock_messages(context))
    # The hard stop: goodbye first, then the end request, exactly once (the candidate page's
    # clock messages, every 5 s and a last one saying it ended, are interleaved).
    clock_updates = [f.data for f in pushed if isinstance(f, RTVIServerMessageFrame)]
    assert (
        clock_updates[-1]["ended"] is True
        and clock_updates[-2]["elapsed_seconds"] - clock_updates[-3]["elapsed_seconds"] == 5
    )
    spoken = [f for f in pushed if not isinstance(f, RTVIServerMessageFrame)]
    assert [type(f) for f in spoken] == [TTSSpeakFrame, EndWorkerFrame]
    assert spoken[0].text == CONFIG.closing_message
    assert tracker.end_reason == "session_timeout" and tracker.state.ended


async def test_transitions_are_tool_calls_with_events_and_injections(tmp_path: Path) -> None:
    clock = FakeClock()
    tracker, context, record = make_tracker(tmp_path, clock)
    await tracker.begin()
    clock.now += 90
    call = FakeCall("transition_section", {"phase_id": "system_design", "reason": "intro done"})
    await tracker.handle_tool(call)
    assert tracker.state.current_phase == "system_design"
    assert call.results[0][1].run_llm is True
    transition = events_of(record, "phase_transition")[0]
    assert transition["from"] == "introduction" and transition["to"] == "system_design"
    assert transition["seconds_in_phase"] == 90
    assert clock_messages(context)[-1].startswith(f"{MARKER} Now in phase System design [system_design]")


async def test_bad_transitions_are_rejected_without_state_change(tmp_path: Path) -> None:
    clock = FakeClock()
    tracker, context, record = make_tracker(tmp_path, clock)
    await tracker.begin()
    before = tracker.snapshot()
    for arguments in ({"phase_id": "coding", "reason": "skip"}, {"phase_id": "lunch", "reason": "?"}, {}):
        call = FakeCall("transition_section", arguments)
        await tracker.handle_tool(call)
        assert call.results[0][0].startswith("Error")
    assert tracker.snapshot() == before
    assert len(clock_messages(context)) == 1  # nothing injected for rejected calls
    assert all(not e["ok"] for e in events_of(record, "tool_call"))


async def test_end_interview_says_goodbye_before_the_end(tmp_path: Path) -> None:
    clock = FakeClock()
    tracker, _, _ = make_tracker(tmp_path, clock)
    await tracker.begin()

    async def end_while_running() -> None:
        await asyncio.sleep(0.05)
        await tracker.handle_tool(FakeCall("end_interview", {"reason": "all phases done"}))

    # The tool call happens while the tracker runs in a real pipeline.
    ending = asyncio.create_task(end_while_running())
    down, up = await run_test(tracker, frames_to_send=[SleepFrame(sleep=0.3)])
    await ending
    assert [f.text for f in down if isinstance(f, TTSSpeakFrame)] == [CONFIG.closing_message]
    assert any(isinstance(f, EndWorkerFrame) for f in up)
    assert tracker.end_reason == "completed"


async def test_resumed_session_continues_without_greeting(tmp_path: Path) -> None:
    clock = FakeClock()
    first, _, _ = make_tracker(tmp_path, clock)
    await first.begin()
    clock.now += 60
    await first.handle_tool(FakeCall("transition_section", {"phase_id": "system_design", "reason": "ok"}))
    await first.handle_tool(
        FakeCall("score_answer", {"rubric_area": "communication", "score": 7, "evidence": "I own the ledger"})
    )
    snapshot = json.loads(json.dumps(first.snapshot()))  # as read back from state.json

    resumed, context, record = make_tracker(tmp_path, clock, resume_from=InterviewState.restore(snapshot, CONFIG))
    await resumed.begin()
    note = clock_messages(context)[-1]
    assert note.startswith(RESUME_MARKER) and "[system_design]" in note and "communication 7" in note
    assert resumed.state.current_phase == "system_design"
    assert events_of(record, "session_resumed")[0]["phase"] == "system_design"

    # The structured interviewer picks up in the right phase instead of greeting again.
    move = StructuredInterviewer(CONFIG).next_move(context.get_messages())
    assert move.text.startswith("Welcome back") and "Hello" not in move.text
    assert CONFIG.phase("system_design").questions[0].text in move.text


async def test_wrap_up_makes_the_structured_interviewer_close() -> None:
    engine = StructuredInterviewer(CONFIG)
    messages = [{"role": "system", "content": "prompt"}]
    engine.next_move(messages)
    messages += [
        {"role": "system", "content": f"{WRAP_UP_MARKER} (45 minutes)."},
        {"role": "user", "content": "More words here."},
    ]
    move = engine.next_move(messages)
    assert move.tool_call is not None and move.tool_call.name == "end_interview"
