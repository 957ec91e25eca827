"""TranscriptionStartUnlessBackchannel in Pipecat's user aggregator: a late transcript starts no turn (backchannels: test_interruptions).

VAD frames come from upstream (no analyzer in the aggregator), turns end on Pipecat's
speech timeout; a started turn shows as an InterruptionFrame downstream.
"""

from __future__ import annotations

from pipecat.frames.frames import (
    BotStartedSpeakingFrame,
    Frame,
    InterruptionFrame,
    TranscriptionFrame,
    VADUserStartedSpeakingFrame,
    VADUserStoppedSpeakingFrame,
)
from pipecat.processors.aggregators.llm_context import LLMContext
from pipecat.processors.aggregators.llm_response_universal import LLMUserAggregator, LLMUserAggregatorParams
from pipecat.tests.utils import SleepFrame, run_test
from pipecat.turns.user_start.vad_user_turn_start_strategy import VADUserTurnStartStrategy
from pipecat.turns.user_stop.speech_timeout_user_turn_stop_strategy import SpeechTimeoutUserTurnStopStrategy
from pipecat.turns.user_turn_strategies import UserTurnStrategies

from turn_taking.transcription_start import TranscriptionStartUnlessBackchannel

HEARD_SECS = 1.0


def aggregator() -> LLMUserAggregator:
    strategies = UserTurnStrategies(
        start=[VADUserTurnStartStrategy(), TranscriptionStartUnlessBackchannel(heard_speech_secs=HEARD_SECS)],
        stop=[SpeechTimeoutUserTurnStopStrategy(user_speech_timeout=0.2)],
    )
    return LLMUserAggregator(LLMContext(), params=LLMUserAggregatorParams(user_turn_strategies=strategies))


def transcript(text: str) -> TranscriptionFrame:
    return TranscriptionFrame(text, "candidate", "2026-01-01T00:00:00Z")


def answered_turn() -> list[Frame]:
    """A turn the VAD heard and the stop strategy ended; the interviewer's reply starts."""
    return [
        VADUserStartedSpeakingFrame(start_secs=0.15),
        SleepFrame(0.1),
        transcript("I built the payments ledger."),
        VADUserStoppedSpeakingFrame(stop_secs=0.2),
        SleepFrame(0.5),  # the turn ends (speech timeout)
        BotStartedSpeakingFrame(),
        SleepFrame(0.05),
    ]


async def interruptions(frames: list[Frame]) -> int:
    down, _ = await run_test(aggregator(), frames_to_send=frames, expected_down_frames=None)
    return len([f for f in down if isinstance(f, InterruptionFrame)])


async def test_a_late_transcript_of_speech_the_vad_heard_does_not_interrupt_the_reply() -> None:
    # Only the VAD start interrupts (once); the slow recogniser's last words do not.
    assert await interruptions([*answered_turn(), transcript("OK, and it was idempotent."), SleepFrame(0.3)]) == 1


async def test_a_transcript_of_speech_the_vad_missed_still_interrupts() -> None:
    late = [SleepFrame(HEARD_SECS + 0.2), transcript("Sorry, can I add something?"), SleepFrame(0.3)]
    assert await interruptions([*answered_turn(), *late]) == 2
