"""Barge-in over the reply that moves the interview to its next phase (issue #13, item 0).

The sequence from a live session: the candidate pauses mid-answer, the turn ends, the
structured interviewer says "Thanks." and calls transition_section; while that is being
spoken the candidate goes on talking. Pipecat's assistant aggregator holds the tool
result's follow-up response while the bot speaks and drops it on the interruption, so the
engine never heard that the move happened. It used to ask for the move again, the tracker
rejected it ("already in phase") and the engine ended the interview. Real processors and
engine throughout: Pipecat's aggregator pair, PhaseTracker, LocalInterviewerLLMService.
"""

from __future__ import annotations

import time
from pathlib import Path

from pipecat.frames.frames import (
    LLMRunFrame,
    ProposedUserStartedSpeakingFrame,
    ProposedUserStoppedSpeakingFrame,
    TranscriptionFrame,
)
from pipecat.pipeline.pipeline import Pipeline
from pipecat.processors.aggregators.llm_context import LLMContext
from pipecat.processors.aggregators.llm_response_universal import LLMContextAggregatorPair, LLMUserAggregatorParams
from pipecat.tests.utils import SleepFrame, run_test
from pipecat.turns.user_turn_strategies import ExternalUserTurnStrategies

from bots.session_record import SessionRecord
from interview.loader import load_interview_config
from processors.phase_tracker import PhaseTracker
from services.local_interviewer import LocalInterviewerLLMService
from tests.fakes.speaking_output import SpeakingOutput

FIRST_PART = (
    "I have been a backend engineer for eight years, most recently on a payments platform, "
    "where I owned the ledger service and its data pipeline."
)
SECOND_PART = "And before that I spent four years building billing systems for a large online shop in Berlin."


def _transcript(text: str) -> TranscriptionFrame:
    return TranscriptionFrame(text=text, user_id="candidate", timestamp=str(time.time()))


async def test_barge_in_over_a_phase_move_does_not_end_the_interview(tmp_path: Path) -> None:
    config = load_interview_config("senior_backend_engineer")
    record = SessionRecord.create(tmp_path, "barge-in")
    context = LLMContext(messages=[{"role": "system", "content": "You are the interviewer."}])
    tracker = PhaseTracker(config, context, events=record)
    context.set_tools(tracker.tools_schema())
    llm = LocalInterviewerLLMService(config)
    speaker = SpeakingOutput(speak_secs=1.5)
    aggregators = LLMContextAggregatorPair(
        context, user_params=LLMUserAggregatorParams(user_turn_strategies=ExternalUserTurnStrategies())
    )
    pipeline = Pipeline([aggregators.user(), tracker, llm, speaker, aggregators.assistant()])
    await tracker.begin()

    await run_test(
        pipeline,
        frames_to_send=[
            LLMRunFrame(),  # greeting and the introduction's only question
            SleepFrame(2.0),
            ProposedUserStartedSpeakingFrame(),
            _transcript(FIRST_PART),
            ProposedUserStoppedSpeakingFrame(),  # the pause: the turn ends here
            SleepFrame(0.8),  # "Thanks." + transition_section; the bot is audible
            ProposedUserStartedSpeakingFrame(),  # ...and the candidate goes on talking
            SleepFrame(0.3),
            _transcript(SECOND_PART),
            ProposedUserStoppedSpeakingFrame(),
            SleepFrame(3.0),
        ],
    )
    record.close()

    system_design = config.phases[1]
    assert tracker.state.current_phase == system_design.id
    assert not tracker.ending and not tracker.state.ended, f"the interview ended: {tracker.state.end_reason}"
    assert llm.current_phase_id == system_design.id, "the engine and the tracker disagree"
    assert system_design.questions[0].text in speaker.utterances[-1], speaker.utterances
    events = record.events_path.read_text()
    assert "tool_rejected" not in events and "end_requested" not in events
