"""A reply the candidate talked over: marked as cut, resumed after a false interruption, never repeated otherwise."""

from __future__ import annotations

import pytest
from pipecat.frames.frames import InterruptionFrame, LLMFullResponseEndFrame, LLMFullResponseStartFrame, LLMTextFrame
from pipecat.processors.aggregators.llm_context import LLMContext
from pipecat.tests.utils import SleepFrame, run_test

from interview.interruptions import (
    CUT_NOTE,
    RESUME_INSTRUCTION,
    cut_sentence_of,
    is_backchannel,
    mark_cut,
    resume_text,
    unheard_part,
)
from interview.loader import load_interview_config
from interview.structured_interviewer import StructuredInterviewer
from processors.interrupted_reply import InterruptedReply

REPLY = "Thanks, that's helpful. Walk me through a system you designed recently. Take your time."


def test_the_cut_sentence_is_put_back_marked_and_can_be_found_again() -> None:
    heard = "Thanks, that's helpful."
    rest = unheard_part(REPLY, heard)
    assert rest == "Walk me through a system you designed recently. Take your time."
    marked = mark_cut(heard, "Walk me through a system you designed recently.")
    assert marked == f"Thanks, that's helpful. Walk me through a system you designed recently— {CUT_NOTE}"
    assert cut_sentence_of(marked) == "Walk me through a system you designed recently"
    assert resume_text(REPLY, marked) == "Walk me through a system you designed recently. Take your time."
    assert unheard_part(REPLY, REPLY) == ""


@pytest.mark.parametrize("text", ["Mm-hmm.", "MHM.", "M-H-M.", "Yeah.   OK.", "uh-huh", "Right."])
def test_acknowledgements_are_backchannels(text: str) -> None:
    assert is_backchannel(text)


@pytest.mark.parametrize("text", ["", "Yeah, I built that.", "Could you repeat that?", "Okay so we used Kafka"])
def test_answers_are_not_backchannels(text: str) -> None:
    assert not is_backchannel(text)


def _greeted() -> tuple[StructuredInterviewer, list[dict], str]:
    engine = StructuredInterviewer(load_interview_config("senior_backend_engineer"))
    greeting = engine.next_move([{"role": "system", "content": "prompt"}]).text
    return engine, [{"role": "system", "content": "prompt"}], greeting


def _cut_after_first_sentence(greeting: str) -> str:
    first, second = greeting.split("! ", 1)[0] + "!", greeting.split("! ", 1)[1]
    return mark_cut(first, second.split(". ")[0] + ".")


@pytest.mark.parametrize(
    "after", [{"role": "developer", "content": RESUME_INSTRUCTION}, {"role": "user", "content": "Mm-hmm."}]
)
def test_the_structured_interviewer_resumes_after_a_false_interruption(after: dict) -> None:
    engine, messages, greeting = _greeted()
    cut = _cut_after_first_sentence(greeting)
    move = engine.next_move([*messages, {"role": "assistant", "content": cut}, after])
    assert move.text == greeting.split("! ", 1)[1]  # from the cut sentence to the end, the question included


def test_after_a_real_barge_in_it_answers_and_does_not_repeat_itself() -> None:
    engine, messages, greeting = _greeted()
    cut = _cut_after_first_sentence(greeting)
    answer = {
        "role": "user",
        "content": "Sorry to jump in, I have eight years of backend work on payments and ledgers.",
    }
    move = engine.next_move([*messages, {"role": "assistant", "content": cut}, answer])
    assert cut_sentence_of(cut) not in move.text
    assert "Thank" in move.text or "Got it" in move.text or "Okay" in move.text


def test_it_repeats_when_the_candidate_asks_it_to() -> None:
    engine, messages, greeting = _greeted()
    cut = _cut_after_first_sentence(greeting)
    move = engine.next_move(
        [
            *messages,
            {"role": "assistant", "content": cut},
            {"role": "user", "content": "Sorry, could you repeat the question?"},
        ]
    )
    assert move.text.startswith("Of course.")


async def test_interrupted_reply_rewrites_the_turn_in_the_context() -> None:
    context = LLMContext(messages=[{"role": "system", "content": "prompt"}])
    tracker = InterruptedReply(context)
    frames = [LLMFullResponseStartFrame(), *(LLMTextFrame(t) for t in ("Thanks, that's helpful. ", "Walk me through ", "a system you designed recently. Take your time.")), LLMFullResponseEndFrame(), SleepFrame(0.05), InterruptionFrame()]  # fmt: skip
    await run_test(tracker, frames_to_send=frames, expected_down_frames=None)
    context.add_message({"role": "assistant", "content": "Thanks, that's helpful."})  # what the aggregator wrote
    recorded = tracker.on_assistant_turn_stopped("Thanks, that's helpful.", interrupted=True)
    assert (
        recorded
        == context.messages[-1]["content"]
        == mark_cut("Thanks, that's helpful.", "Walk me through a system you designed recently.")
    )
    assert len(context.messages) == 2
    assert tracker.withdraw() and len(context.messages) == 1 and not tracker.withdraw()  # for "one answer" merges
    # A reply heard in full is left alone, and forgotten.
    assert tracker.on_assistant_turn_stopped("Got it.", interrupted=False) == "Got it."
    assert tracker.on_assistant_turn_stopped("", interrupted=True) == ""  # e.g. a cue spoken outside the context


class Events:
    def __init__(self) -> None:
        self.kinds: list[str] = []

    def event(self, kind: str, **_data: object) -> None:
        self.kinds.append(kind)


async def test_a_reply_cut_by_the_candidate_going_on_with_their_answer_is_no_barge_in() -> None:
    from frames.interview_frames import AnswerResumedFrame

    context = LLMContext(messages=[{"role": "system", "content": "prompt"}])
    events = Events()
    tracker = InterruptedReply(context, events=events)
    frames = [
        LLMTextFrame(REPLY),
        SleepFrame(0.05),
        AnswerResumedFrame(previous_answer="I built a ledger."),
        InterruptionFrame(),
    ]
    await run_test(tracker, frames_to_send=frames, expected_down_frames=None)
    context.add_message({"role": "assistant", "content": "Thanks, that's helpful."})
    assert tracker.on_assistant_turn_stopped("Thanks, that's helpful.", interrupted=True) == "Thanks, that's helpful."
    assert context.messages[-1]["content"] == "Thanks, that's helpful." and not events.kinds
    # The next reply cut by a real barge-in is marked again.
    await run_test(
        tracker, frames_to_send=[LLMTextFrame(REPLY), SleepFrame(0.05), InterruptionFrame()], expected_down_frames=None
    )
    assert tracker.on_assistant_turn_stopped("", interrupted=True).endswith(CUT_NOTE) and events.kinds == [
        "interviewer_cut"
    ]


async def test_a_reply_cut_before_its_first_sentence_ended_is_added() -> None:
    context = LLMContext(messages=[{"role": "system", "content": "prompt"}])
    tracker = InterruptedReply(context)
    await run_test(
        tracker, frames_to_send=[LLMTextFrame(REPLY), SleepFrame(0.05), InterruptionFrame()], expected_down_frames=None
    )
    tracker.on_assistant_turn_stopped("", interrupted=True)
    assert context.messages[-1] == {"role": "assistant", "content": mark_cut("", "Thanks, that's helpful.")}


async def test_a_backchannel_transcript_over_the_bot_starts_no_turn_but_an_answer_does() -> None:
    from pipecat.frames.frames import BotStartedSpeakingFrame, BotStoppedSpeakingFrame, TranscriptionFrame

    from turn_taking.transcription_start import TranscriptionStartUnlessBackchannel

    strategy = TranscriptionStartUnlessBackchannel()
    started: list[object] = []

    async def on_started(_strategy: object, params: object) -> None:
        started.append(params)

    strategy.add_event_handler("on_user_turn_started", on_started)

    def said(text: str) -> TranscriptionFrame:
        return TranscriptionFrame(text=text, user_id="candidate", timestamp="")

    await strategy.process_frame(BotStartedSpeakingFrame())
    await strategy.process_frame(said("Mm-hmm."))
    assert not started
    await strategy.process_frame(said("No, we used Kafka."))
    assert len(started) == 1
    await strategy.process_frame(BotStoppedSpeakingFrame())
    await strategy.process_frame(said("Yeah."))  # the bot is quiet: "yeah" is an answer
    assert len(started) == 2
