"""A resumed answer stays one answer: detection, context, transcript, evaluator, latency, interviewer move."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from pipecat.frames.frames import (
    BotStartedSpeakingFrame,
    BotStoppedSpeakingFrame,
    LLMContextFrame,
    UserStartedSpeakingFrame,
    UserStoppedSpeakingFrame,
    VADUserStoppedSpeakingFrame,
)
from pipecat.processors.aggregators.llm_context import LLMContext
from pipecat.tests.utils import SleepFrame, run_test

from bots.session_record import SessionRecord
from frames.interview_frames import AnswerResumedFrame
from interview.config import LatencyAlerts, LatencyBudget
from interview.evaluator import RubricEvaluator
from interview.heuristic_scorer import HeuristicScorer
from interview.loader import load_interview_config
from interview.structured_interviewer import StructuredInterviewer
from interview.transcript_lines import TranscriptLines
from latency.tracker import LatencyTracker
from processors.resumed_answer import ResumedAnswer, merge_resumed_answer

CONFIG = load_interview_config("senior_backend_engineer")
QUESTION = {"role": "assistant", "content": "How would you design a payment service?"}
FIRST = {"role": "user", "content": "Every payment goes through the ledger first."}
CUT_REPLY = {"role": "assistant", "content": "Thank you. Next, tell"}
REST = {"role": "user", "content": "That keeps the two in step."}


def context(*messages: dict[str, Any]) -> LLMContext:
    return LLMContext(messages=[{"role": "system", "content": "You interview."}, *messages])


def confirmed_turn() -> list[Any]:
    """The candidate's turn ends and its reply begins to play."""
    return [
        VADUserStoppedSpeakingFrame(stop_secs=0.2), UserStoppedSpeakingFrame(),
        LLMContextFrame(context=context(QUESTION, FIRST)), SleepFrame(0.05),
    ]  # fmt: skip


async def run_resumed(frames: list[Any], window_secs: float = 2.0) -> tuple[list[Any], list[Any], list[Any]]:
    seen: list[Any] = []
    processor = ResumedAnswer(window_secs=window_secs)

    @processor.event_handler("on_answer_resumed")
    async def _on_resumed(_processor: Any, frame: AnswerResumedFrame) -> None:
        seen.append(frame)

    down, up = await run_test(processor, frames_to_send=frames, expected_down_frames=None, expected_up_frames=None)
    return down, up, seen


async def test_speech_soon_after_the_reply_began_is_the_same_answer_and_the_next_context_is_merged() -> None:
    final = context(QUESTION, FIRST, CUT_REPLY, REST)
    down, up, seen = await run_resumed(
        [
            *confirmed_turn(),
            BotStartedSpeakingFrame(),
            SleepFrame(0.3),
            UserStartedSpeakingFrame(),
            SleepFrame(0.05),
            UserStoppedSpeakingFrame(),
            LLMContextFrame(context=final),
        ]
    )
    resumed = [f for f in down if isinstance(f, AnswerResumedFrame)]
    assert len(resumed) == 1 and resumed[0].previous_answer == FIRST["content"]
    assert 0.25 <= resumed[0].interviewer_spoke_secs < 1.0 and resumed[0].pause_secs > 0.3
    assert any(isinstance(f, AnswerResumedFrame) for f in up), (
        "the turn-stop strategy (upstream) must learn the false end"
    )
    assert seen and seen[0].previous_answer == FIRST["content"]
    assert final.get_messages()[1:] == [QUESTION, {"role": "user", "content": f"{FIRST['content']} {REST['content']}"}]


async def test_speech_after_the_window_or_after_the_reply_finished_is_a_new_turn() -> None:
    late = [*confirmed_turn(), BotStartedSpeakingFrame(), SleepFrame(0.4), UserStartedSpeakingFrame()]
    down, _, seen = await run_resumed(late, window_secs=0.2)
    assert not seen and not any(isinstance(f, AnswerResumedFrame) for f in down)

    finished = [*confirmed_turn(), BotStartedSpeakingFrame(), BotStoppedSpeakingFrame(), UserStartedSpeakingFrame()]
    _, _, seen = await run_resumed(finished)
    assert not seen


async def test_speech_before_any_reply_played_is_the_same_answer() -> None:
    _, _, seen = await run_resumed([*confirmed_turn(), UserStartedSpeakingFrame()])
    assert len(seen) == 1 and seen[0].interviewer_spoke_secs == 0.0


def test_merge_keeps_a_reply_that_called_a_tool() -> None:
    tool_reply = {
        "role": "assistant",
        "content": None,
        "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "transition_section", "arguments": "{}"}}],
    }
    ctx = context(QUESTION, FIRST, tool_reply, {"role": "tool", "tool_call_id": "c1", "content": "ok"}, REST)
    before = list(ctx.get_messages())
    assert merge_resumed_answer(ctx, FIRST["content"]) is False and ctx.get_messages() == before
    plain = context(QUESTION, FIRST, REST, {"role": "assistant", "content": "Thanks."})
    assert merge_resumed_answer(plain, FIRST["content"]) is True
    assert plain.get_messages()[-1] == {"role": "assistant", "content": "Thanks."}  # what came after stays
    plain.set_messages(plain.get_messages()[:-1])
    assert plain.get_messages()[-1]["content"] == f"{FIRST['content']} {REST['content']}"


def test_the_transcript_writes_a_resumed_answer_as_one_line(tmp_path: Path) -> None:
    lines: list[tuple[str, str]] = []
    events: list[tuple[str, dict[str, Any]]] = []
    transcript = TranscriptLines(
        lambda who, text, **_: lines.append((who, text)), lambda kind, **d: events.append((kind, d))
    )
    transcript.interviewer("How would you design it?", phase="design")
    transcript.candidate("Every payment goes through the ledger first.", phase="design")
    transcript.answer_resumed()
    transcript.interviewer("Thank you. Next,", phase="design", interrupted=True)
    transcript.candidate("That keeps the two in step.", phase="design")
    transcript.interviewer("Thank you. Next question.", phase="design")
    transcript.flush()
    assert lines == [
        ("interviewer", "How would you design it?"),
        ("candidate", "Every payment goes through the ledger first. That keeps the two in step."),
        ("interviewer", "Thank you. Next question."),
    ]
    assert events == [("reply_cut_by_resumed_answer", {"text": "Thank you. Next,"})]


async def test_the_evaluator_gets_the_resumed_answer_as_one_answer_scored_once(tmp_path: Path) -> None:
    """The evaluator reads the transcript's lines: the cut reply is no line, the answer's two parts are one."""
    record = SessionRecord.create(tmp_path, "t")
    evaluator = RubricEvaluator(CONFIG, HeuristicScorer(), events=record)
    transcript = TranscriptLines(record.transcript, record.event, on_line=evaluator.on_line)
    transcript.interviewer("How would you design a payment service?", phase="system_design")
    transcript.candidate("Every payment goes through the ledger first.", phase="system_design")
    transcript.answer_resumed()
    transcript.interviewer("Thank you. Next,", phase="system_design")  # the reply the candidate went on over
    transcript.candidate("That keeps the two in step.", phase="system_design")
    assert evaluator.pairs == []  # the answer is held until the next line shows it is over
    transcript.interviewer("Thank you.", phase="system_design")
    (pair,) = evaluator.pairs
    assert pair.question == "How would you design a payment service?"
    assert pair.answer == "Every payment goes through the ledger first. That keeps the two in step."
    await evaluator.finalize(timeout=10)
    assert {s.pair_index for s in evaluator.answer_scores} == {0}
    record.close()


def test_the_latency_tracker_keeps_one_record_marked_false_end() -> None:
    now = [100.0]
    tracker = LatencyTracker(LatencyBudget(), LatencyAlerts(), events=None, vad_stop_secs=0.2, clock=lambda: now[0])

    def at(t: float, call: Any) -> None:
        now[0] = t
        call()

    at(100.0, tracker.user_turn_started)
    at(102.0, lambda: tracker.vad_user_stopped(stop_secs=0.2))
    at(102.5, tracker.turn_committed)
    at(102.6, tracker.bot_started_speaking)
    at(103.0, tracker.false_end)
    at(103.0, tracker.user_turn_started)
    at(104.0, lambda: tracker.vad_user_stopped(stop_secs=0.2))
    at(104.5, tracker.turn_committed)
    at(104.6, tracker.bot_started_speaking)
    at(110.0, tracker.user_turn_started)
    (record,) = tracker.turns
    assert record["false_end"] is True and record["status"] == "complete"
    assert record["voice_to_voice_ms"] == 800.0  # from the end of the whole answer, not its first part


def test_the_structured_interviewer_undoes_a_move_the_candidate_talked_over_and_holds_tentative_ones() -> None:
    engine = StructuredInterviewer(CONFIG)
    messages: list[dict[str, Any]] = []
    greeting = engine.next_move(messages)
    messages += [{"role": "assistant", "content": greeting.text}, {"role": "user", "content": "Payments."}]
    held = engine.next_move(messages, tentative=True)
    assert held.tool_call is None  # a follow-up question (moves that call a tool are never undone)
    engine.withdraw_tentative()
    again = engine.next_move(messages, tentative=True)
    assert again.text == held.text  # a withdrawn move never happened
    engine.confirm_tentative()
    assert engine.undo_last_move() is True
    replayed = engine.next_move(messages)
    assert (
        replayed.text.split(".")[-2:] == held.text.split(".")[-2:]
    )  # same question again (acknowledgement may rotate)


def test_a_withdrawn_tool_call_is_made_again_even_after_the_turn_end_confirmed_it() -> None:
    engine = StructuredInterviewer(CONFIG)
    messages: list[dict[str, Any]] = []
    for _ in range(60):  # walk the interview until the next move calls a tool (a phase change)
        probe = copy.deepcopy(engine)
        upcoming = probe.next_move(messages)
        if upcoming.tool_call is not None:
            break
        move = engine.next_move(messages)
        messages += [
            {"role": "assistant", "content": move.text},
            {"role": "user", "content": "We used Postgres and a queue for payments."},
        ]
    assert upcoming.tool_call is not None
    held = engine.next_move(messages, tentative=True)
    engine.confirm_tentative()  # the turn end released the prepared reply...
    engine.call_withdrawn()  # ...and Pipecat then withdrew it for its tool call
    again = engine.next_move(messages)
    assert again.tool_call is not None and again.tool_call.name == held.tool_call.name  # type: ignore[union-attr]
    assert again.text == upcoming.text
