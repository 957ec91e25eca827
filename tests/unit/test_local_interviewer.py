"""The local interviewer: walks a config's phases from text turns, and streams like an LLM."""

from __future__ import annotations

import json
import time

from pipecat.frames.frames import (
    FunctionCallInProgressFrame,
    FunctionCallResultFrame,
    LLMContextFrame,
    LLMFullResponseEndFrame,
    LLMFullResponseStartFrame,
    LLMTextFrame,
)
from pipecat.processors.aggregators.llm_context import LLMContext
from pipecat.tests.utils import run_test

from bots.session_record import SessionRecord
from interview import pacing
from interview.config import InterviewConfig
from interview.loader import load_interview_config
from interview.state import InterviewState
from interview.structured_interviewer import Move, StructuredInterviewer
from interview.tools import InterviewToolHandlers
from processors.phase_tracker import PhaseTracker
from services.local_interviewer import LocalInterviewerLLMService

LONG_ANSWER = (
    "I would start from the requirements, then describe the components, the data model, "
    "how requests flow between them, and how we would monitor the whole thing in production."
)


def _walk(config_name: str, answer: str) -> tuple[list[str], list[str], StructuredInterviewer]:
    return _walk_answers(config_name, [answer] * 60)


def _walk_answers(config_name: str, answers: list[str]) -> tuple[list[str], list[str], StructuredInterviewer]:
    """Drive the engine like the pipeline does; return spoken texts and tool calls made."""
    config = load_interview_config(config_name)
    engine = StructuredInterviewer(config)
    state = InterviewState.start(config, time.monotonic())
    handlers = InterviewToolHandlers(config, state)
    messages: list[dict] = [{"role": "system", "content": "prompt"}]
    spoken: list[str] = []
    tools: list[str] = []
    for _ in range(60):
        move = engine.next_move(messages)
        if move.text:
            spoken.append(move.text)
            messages.append({"role": "assistant", "content": move.text})
        if move.tool_call is not None:
            tools.append(move.tool_call.name)
            result = handlers.handle(move.tool_call.name, dict(move.tool_call.arguments))
            assert result.ok, result.text
            messages.append({"role": "assistant", "tool_calls": [{"id": "1"}]})
            messages.append({"role": "tool", "tool_call_id": "1", "content": result.text})
            if result.end_session:
                return spoken, tools, engine
            continue
        messages.append({"role": "user", "content": answers.pop(0) if answers else "Nothing more."})
    raise AssertionError("interview never ended")


def test_walks_every_phase_in_order_and_asks_every_question() -> None:
    config = load_interview_config("senior_backend_engineer")
    spoken, tools, engine = _walk("senior_backend_engineer", LONG_ANSWER)
    transcript = " ".join(spoken)
    for phase in config.phases:
        for question in phase.questions:
            assert question.text in transcript
    moves = [t for t in tools if t != "query_knowledge"]  # candidate-questions phase may look facts up
    assert moves == ["transition_section"] * (len(config.phases) - 1) + ["end_interview"]
    assert spoken[0].startswith("Hello") and config.role in spoken[0]
    assert engine.finished


def test_short_answers_get_one_follow_up_per_question() -> None:
    config = load_interview_config("senior_backend_engineer")
    spoken, _, _ = _walk("senior_backend_engineer", "Not sure.")
    follow_ups = [q.follow_up for p in config.phases for q in p.questions if q.follow_up]
    for follow_up in follow_ups:
        assert sum(follow_up in s for s in spoken) == 1


def test_trigger_phrase_gets_a_follow_up_that_names_it() -> None:
    config = load_interview_config("senior_backend_engineer")
    engine = StructuredInterviewer(config)
    engine.next_move([{"role": "system", "content": "p"}])  # greeting + introduction question
    # Long enough not to count as short; "team" is a communication follow-up trigger.
    answer = "I have spent four years building payment services with a small team in Berlin and I enjoyed it."
    move = engine.next_move([{"role": "user", "content": answer}])
    assert move.text.endswith(f"You mentioned team. {config.phases[0].questions[0].follow_up}")


def test_candidate_questions_are_answered_from_company_facts() -> None:
    config = load_interview_config("senior_backend_engineer")
    spoken, tools, _ = _walk_answers(
        "senior_backend_engineer",
        [LONG_ANSWER] * 5 + ["How many engineers are on the platform team?", "No, that is all, thank you."],
    )
    assert tools.count("query_knowledge") == 1 and tools[-1] == "end_interview"
    assert any(config.company.facts["team"] in line for line in spoken)


def test_repeat_request_repeats_the_question() -> None:
    config = load_interview_config("senior_backend_engineer")
    engine = StructuredInterviewer(config)
    first = engine.next_move([{"role": "system", "content": "p"}])
    move = engine.next_move([{"role": "user", "content": "Sorry, could you repeat that please?"}])
    assert config.phases[0].questions[0].text in first.text
    assert config.phases[0].questions[0].text in move.text


def test_move_on_request_skips_the_follow_up_and_asks_the_next_question() -> None:
    config = load_interview_config("senior_backend_engineer")
    phase = next(p for p in config.phases if len(p.questions) >= 2 and not p.answers_candidate_questions)
    config = config.model_copy(update={"phases": [phase, *[p for p in config.phases if p is not phase]]})
    questions = phase.questions
    engine = StructuredInterviewer(config)
    engine.next_move([{"role": "system", "content": "p"}])
    # A short answer would normally earn a follow-up; the keypad's "#" request moves on instead.
    move = engine.next_move([{"role": "user", "content": config.keypad.requests["#"]}])
    assert questions[1].text in move.text
    assert not questions[0].follow_up or questions[0].follow_up not in move.text
    # The repeat shortcut ("*") still repeats what was asked last.
    again = engine.next_move([{"role": "user", "content": config.keypad.requests["*"]}])
    assert questions[1].text in again.text and again.text.startswith("Of course")


def test_qualitative_config_walks_rapport_core_closing() -> None:
    config = load_interview_config("qualitative_research")
    _spoken, tools, _ = _walk("qualitative_research", LONG_ANSWER)
    assert tools[-1] == "end_interview"
    assert tools.count("transition_section") == len(config.phases) - 1


async def test_service_streams_like_an_llm_and_calls_tools_through_pipecat(tmp_path) -> None:
    config = load_interview_config("senior_backend_engineer")
    llm = LocalInterviewerLLMService(config)
    record = SessionRecord.create(tmp_path, "test")
    context = LLMContext(messages=[{"role": "system", "content": "p"}])
    tracker = PhaseTracker(config, context, events=record)
    context.set_tools(tracker.tools_schema())
    await tracker.begin()
    # Greeting, then the candidate finishes the introduction phase with a long answer:
    # the engine must call transition_section through the function-calling path.
    down, _ = await run_test(llm, frames_to_send=[LLMContextFrame(context)])
    kinds = [type(f) for f in down]
    assert kinds.index(LLMFullResponseStartFrame) < kinds.index(LLMTextFrame) < kinds.index(LLMFullResponseEndFrame)
    text = "".join(f.text for f in down if isinstance(f, LLMTextFrame))
    assert config.phases[0].questions[0].text in text
    assert sum(isinstance(f, LLMTextFrame) for f in down) > 3  # streamed in pieces

    context.add_message({"role": "user", "content": LONG_ANSWER})
    down, _ = await run_test(llm, frames_to_send=[LLMContextFrame(context)])
    assert any(isinstance(f, FunctionCallInProgressFrame) for f in down)
    result = next(f for f in down if isinstance(f, FunctionCallResultFrame))
    assert result.function_name == "transition_section"
    assert tracker.state.current_phase == config.phases[1].id
    record.close()
    events = record.events_path.read_text()
    assert '"phase_transition"' in events or "transition_section" in events


def _asking_to_move(config: InterviewConfig) -> StructuredInterviewer:
    """An engine that has greeted, heard a full first answer and asked for transition_section."""
    engine = StructuredInterviewer(config)
    engine.next_move([{"role": "system", "content": "p"}])
    move = engine.next_move([{"role": "user", "content": LONG_ANSWER}])
    assert move.tool_call is not None and move.tool_call.name == "transition_section"
    return engine


def test_tool_results_are_read_as_pipecat_stores_them() -> None:
    """Pipecat JSON-encodes function results in the context: a string arrives in quotes."""
    config = load_interview_config("senior_backend_engineer")
    engine = _asking_to_move(config)
    rejected = {"role": "tool", "tool_call_id": "1", "content": json.dumps("Error: cannot skip ahead.")}
    move = engine.next_move([rejected])
    assert move.tool_call is None and not engine.finished, "a rejected move is not a success, nor an end"
    assert engine.current_phase_id == config.phases[0].id

    # Reach the candidate-questions phase, ask about the team, and answer from the fact.
    engine = StructuredInterviewer(config)
    engine.next_move([{"role": "system", "content": "p"}])
    for _ in range(20):
        move = engine.next_move([{"role": "user", "content": LONG_ANSWER}])
        if move.tool_call is not None and move.tool_call.name == "transition_section":
            move = engine.next_move(
                [{"role": "tool", "tool_call_id": "t", "content": json.dumps("Now in the next phase.")}]
            )
        if engine.current_phase_id == "candidate_questions":
            break
    move = engine.next_move([{"role": "user", "content": "How many engineers are on the platform team?"}])
    assert move.tool_call is not None and move.tool_call.name == "query_knowledge"
    fact = config.company.facts["team"]
    move = engine.next_move([{"role": "tool", "tool_call_id": "2", "content": json.dumps(fact)}])
    assert move.text.startswith(fact) and '"' not in move.text


def test_a_rejected_move_never_ends_the_interview_and_is_asked_again() -> None:
    engine = _asking_to_move(load_interview_config("senior_backend_engineer"))
    rejected = {"role": "tool", "tool_call_id": "1", "content": json.dumps("Error: Rejected transition_section: no.")}
    move = engine.next_move([rejected])
    assert move.tool_call is None and move.text and not engine.finished
    move = engine.next_move([{"role": "user", "content": LONG_ANSWER}])
    assert move.tool_call is not None and move.tool_call.name == "transition_section"


def test_the_engine_follows_a_move_the_tracker_made_while_the_reply_was_cut() -> None:
    """The tracker's "now in phase" note is the truth; a cut-off tool result never re-runs the engine."""
    config = load_interview_config("senior_backend_engineer")
    engine = StructuredInterviewer(config)
    messages: list[dict] = [{"role": "system", "content": pacing.phase_entered(config.phases[0])}]
    engine.next_move(messages)
    move = engine.next_move([*messages, {"role": "user", "content": LONG_ANSWER}])
    assert move.tool_call is not None and move.tool_call.name == "transition_section"
    messages += [
        {"role": "user", "content": LONG_ANSWER},
        {"role": "assistant", "content": "Thanks."},
        {"role": "assistant", "tool_calls": [{"id": "1"}]},
        {"role": "system", "content": pacing.phase_entered(config.phases[1])},
        {"role": "tool", "tool_call_id": "1", "content": json.dumps("Now in System Design.")},
        {"role": "user", "content": "And I also ran the on-call rotation for two years."},
    ]
    move = engine.next_move(messages)
    assert move.tool_call is None
    assert engine.current_phase_id == config.phases[1].id
    assert config.phases[1].questions[0].text in move.text


def test_a_cancelled_move_is_asked_for_again_after_the_next_answer() -> None:
    config = load_interview_config("senior_backend_engineer")
    engine = _asking_to_move(config)
    move = engine.next_move([{"role": "tool", "tool_call_id": "1", "content": "CANCELLED"}])
    assert move == Move() and engine.current_phase_id == config.phases[0].id
    move = engine.next_move([{"role": "user", "content": LONG_ANSWER}])
    assert move.tool_call is not None and move.tool_call.name == "transition_section"


def test_entered_phase_id_reads_the_trackers_note() -> None:
    config = load_interview_config("senior_backend_engineer")
    assert pacing.entered_phase_id(pacing.phase_entered(config.phases[2])) == config.phases[2].id
    assert pacing.entered_phase_id("Now in phase Coding [coding], about 5 minutes.") is None
    assert pacing.entered_phase_id(pacing.phase_time_warning(config.phases[2], 30)) is None


def test_the_structured_interviewer_takes_over_mid_interview_without_greeting() -> None:
    """Failover from another LLM: the engine carries on, it does not greet the candidate again."""
    from interview.loader import load_interview_config
    from interview.structured_interviewer import StructuredInterviewer

    engine = StructuredInterviewer(load_interview_config("senior_backend_engineer"))
    messages = [
        {"role": "system", "content": "You interview."},
        {"role": "assistant", "content": "Hello, I am Alex. Tell me about your recent backend work."},
        {"role": "user", "content": "I build payment services with Kafka and Postgres and idempotency keys."},
    ]
    move = engine.next_move(messages)
    assert move.text and "hello" not in move.text.lower() and "welcome" not in move.text.lower()


def test_a_candidate_back_after_a_drop_hears_the_open_question_not_the_greeting_again() -> None:
    from interview.pacing import RESUME_MARKER

    config = load_interview_config("senior_backend_engineer")
    first = StructuredInterviewer(config)
    greeting = first.next_move([]).text
    question = config.phases[0].questions[0].text
    assert question in greeting
    messages = [{"role": "system", "content": "prompt"}, {"role": "assistant", "content": greeting}]
    for back in (1, 2):  # two drops: the second must not nest the first welcome back
        messages.append({"role": "system", "content": f"{RESUME_MARKER} after a dropped connection."})
        again = StructuredInterviewer(config).next_move(messages).text  # a new process, the saved context
        assert again == f"Welcome back. Where we were: {question}", (back, again)
        messages.append({"role": "assistant", "content": again})
