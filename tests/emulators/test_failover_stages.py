"""The fault matrix per stage: Pipecat's real services, the emulators, our failover switchers.

Each case: the primary suffers one fault mid-session; the turn is answered once (the reply text
is asserted), nothing is said or transcribed twice, and the switch is reported. Timeouts are
short (1 s) so the whole matrix stays fast.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from pipecat.frames.frames import (
    EagerEndOfTurnCancelFrame,
    LLMContextFrame,
    LLMFullResponseEndFrame,
    LLMFullResponseStartFrame,
    LLMTextFrame,
    TranscriptionFrame,
    UserStoppedSpeakingFrame,
    VADUserStartedSpeakingFrame,
    VADUserStoppedSpeakingFrame,
)
from pipecat.processors.aggregators.llm_context import LLMContext
from pipecat.services.openai.llm import OpenAILLMService
from pipecat.tests.utils import SleepFrame, run_test

from emulators.deepgram import DeepgramEmulator
from emulators.elevenlabs import ElevenLabsEmulator
from emulators.faults import Fault
from emulators.openai import FakeOpenAIServer, FakeResponse
from services.failover.llm import LLMFailover
from services.failover.stt import STTFailover
from services.failover.switcher import FailoverPolicy
from services.failover.tts import TTSFailover

from .helpers import audio_frames, fixed_transcriber, of_type, silent_synthesizer, spoken_words, text_of, tone
from .test_emulator_protocols import deepgram_stt, elevenlabs_tts

REPLY = "That makes sense. How would you keep the payment idempotent under retries?"
POLICY = FailoverPolicy(timeout_secs=1.0, recovery_secs=60)
FAULTS = ["refuse*3", "http_error:503*3", "http_error:429*3", "hang", "slow_first_byte:4", "drop:3", "malformed"]


class Events:
    def __init__(self) -> None:
        self.items: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, event: str, data: dict[str, Any]) -> None:
        self.items.append((event, data))

    def types(self) -> list[str]:
        return [e for e, _ in self.items]


def openai_llm(server: FakeOpenAIServer) -> OpenAILLMService:
    llm = OpenAILLMService(
        api_key="sk-test", base_url=server.base_url, settings=OpenAILLMService.Settings(model="gpt-4.1-mini")
    )
    return llm


def question_context() -> LLMContext:
    return LLMContext(
        messages=[
            {"role": "system", "content": "You interview."},
            {"role": "user", "content": "I use idempotency keys."},
        ]
    )


@pytest.mark.parametrize("fault", FAULTS)
async def test_llm_turn_is_answered_once_by_the_fallback_endpoint(fault: str) -> None:
    events = Events()
    async with FakeOpenAIServer(default_text=REPLY) as primary, FakeOpenAIServer(default_text=REPLY) as backup:
        primary.faults.inject(*Fault.parse(fault))
        switcher = LLMFailover(
            [openai_llm(primary), openai_llm(backup)], names=["primary", "backup"], policy=POLICY, listener=events
        )
        down, _ = await run_test(switcher, frames_to_send=[LLMContextFrame(question_context()), SleepFrame(2)])
        assert len(backup.requests) == 1 and backup.requests[0]["messages"][-1]["content"] == "I use idempotency keys."
    assert " ".join(text_of(down, LLMTextFrame).split()) == REPLY  # answered, and no word twice (drop:3 streamed some)
    assert len(of_type(down, LLMFullResponseStartFrame)) == 1 and len(of_type(down, LLMFullResponseEndFrame)) == 1
    assert events.types()[:2] == ["failover", "failover_retry"] and events.items[0][1]["to_service"] == "backup"


async def test_llm_falls_through_to_the_last_service_and_probes_the_primary_back() -> None:
    events = Events()
    policy = FailoverPolicy(timeout_secs=1.0, recovery_secs=1.0)
    async with (
        FakeOpenAIServer(default_text=REPLY) as primary,
        FakeOpenAIServer(default_text="Second reply.") as backup,
    ):
        primary.faults.inject("hang")
        switcher = LLMFailover(
            [openai_llm(primary), openai_llm(backup)], names=["primary", "backup"], policy=policy, listener=events
        )
        frames = [
            LLMContextFrame(question_context()),
            SleepFrame(3.5),
            LLMContextFrame(question_context()),
            SleepFrame(1.5),
        ]
        down, _ = await run_test(switcher, frames_to_send=frames)
    assert text_of(down, LLMTextFrame) == "Second reply." + REPLY  # turn 1 on the backup, turn 2 back on the primary
    assert events.types() == ["failover", "failover_retry", "failover_probe", "failover_recovered"]


async def test_a_withdrawn_speculative_reply_is_not_a_failure_and_a_held_one_is_timed_from_the_turn_end() -> None:
    """Found by scripts/bench_load.py: an eager end of turn withdrawn left the first-token clock running."""
    events = Events()
    slow = FakeResponse(text=REPLY, delay=1.3)  # held by the turn for 0.8 s, then 0.5 s more: within the 1 s timeout
    async with FakeOpenAIServer([slow], default_text=REPLY) as primary, FakeOpenAIServer() as backup:
        primary.faults.inject("hang")  # the speculative request never answers
        switcher = LLMFailover(
            [openai_llm(primary), openai_llm(backup)], names=["primary", "backup"], policy=POLICY, listener=events
        )
        frames = [
            LLMContextFrame(question_context(), speculation=True),
            SleepFrame(0.2),
            EagerEndOfTurnCancelFrame(),  # the candidate went on speaking
            SleepFrame(1.5),
            LLMContextFrame(question_context(), speculation=True),
            SleepFrame(0.8),
            UserStoppedSpeakingFrame(),  # the turn ends: the wait for the first token starts here
            SleepFrame(1.2),
        ]
        down, _ = await run_test(switcher, frames_to_send=frames)
    assert events.types() == [] and not backup.requests
    assert text_of(down, LLMTextFrame) == REPLY


@pytest.mark.parametrize("fault", ["refuse*8", "http_error:503*8", "hang", "slow_first_byte:3", "drop:2", "malformed"])
async def test_tts_reply_is_finished_by_the_fallback_without_repeating_words(fault: str) -> None:
    events = Events()
    async with (
        ElevenLabsEmulator(synthesizer=silent_synthesizer(0.1)) as primary,
        ElevenLabsEmulator(synthesizer=silent_synthesizer(0.1)) as backup,
    ):
        primary.faults.inject(*Fault.parse(fault))
        switcher = TTSFailover(
            [elevenlabs_tts(primary), elevenlabs_tts(backup)],
            names=["primary", "backup"],
            policy=POLICY,
            listener=events,
        )
        frames = [
            LLMFullResponseStartFrame(),
            *[LLMTextFrame(t) for t in re.findall(r"\s*\S+", REPLY)],
            LLMFullResponseEndFrame(),
            SleepFrame(3),
        ]
        down, _ = await run_test(switcher, frames_to_send=[SleepFrame(0.5), *frames])
    heard = spoken_words(down).split()
    assert heard == REPLY.split(), heard  # every word once, in order
    assert "failover" in events.types()


# A WebSocket provider is connected before the answer: its connection faults hit the reconnect
# after a drop (Pipecat's Deepgram service waits for its first connection during setup).
STT_FAULTS = [
    "drop:5,http_error:503*8",
    "drop:5,http_error:429*8",
    "drop:5,refuse*8",
    "hang",
    "slow_first_byte:4",
    "drop:5",
    "malformed",
]


@pytest.mark.parametrize("fault", STT_FAULTS)
async def test_stt_answer_is_transcribed_once_by_the_fallback(fault: str) -> None:
    events = Events()
    answer = "I would put an idempotency key on every request."
    async with (
        DeepgramEmulator(transcriber=fixed_transcriber(answer)) as primary,
        DeepgramEmulator(transcriber=fixed_transcriber(answer)) as backup,
    ):
        primary.faults.inject(*[f for spec in fault.split(",") for f in Fault.parse(spec)])
        switcher = STTFailover(
            [deepgram_stt(primary), deepgram_stt(backup)], names=["primary", "backup"], policy=POLICY, listener=events
        )
        frames = [
            SleepFrame(0.3),
            VADUserStartedSpeakingFrame(),
            *audio_frames(tone(0.5)),
            SleepFrame(0.05),
            VADUserStoppedSpeakingFrame(),
            SleepFrame(2.5),
        ]
        down, _ = await run_test(switcher, frames_to_send=frames)
    assert [t.text for t in of_type(down, TranscriptionFrame)] == [answer]
    assert "failover" in events.types()


async def test_an_open_latency_breaker_moves_the_next_turn_not_the_current_one() -> None:
    events = Events()
    async with (
        FakeOpenAIServer(default_text="Primary reply.") as primary,
        FakeOpenAIServer(default_text="Backup reply.") as backup,
    ):
        switcher = LLMFailover(
            [openai_llm(primary), openai_llm(backup)], names=["primary", "backup"], policy=POLICY, listener=events
        )
        switcher.degrade("latency breaker open: p95 2900 ms > budget 410 ms")
        down, _ = await run_test(switcher, frames_to_send=[LLMContextFrame(question_context()), SleepFrame(1)])
    assert text_of(down, LLMTextFrame) == "Backup reply." and not primary.requests
    assert events.items[0][0] == "failover" and events.items[0][1]["during_turn"] is False
    assert "latency breaker" in events.items[0][1]["reason"]


async def test_when_every_service_fails_the_pipeline_hears_the_error() -> None:
    from pipecat.frames.frames import ErrorFrame

    events = Events()
    async with FakeOpenAIServer() as primary, FakeOpenAIServer() as backup:
        primary.faults.inject("http_error:503*3")  # the SDK retries twice on its own
        backup.faults.inject("http_error:503*3")
        switcher = LLMFailover(
            [openai_llm(primary), openai_llm(backup)], names=["primary", "backup"], policy=POLICY, listener=events
        )
        _, up = await run_test(switcher, frames_to_send=[LLMContextFrame(question_context()), SleepFrame(4)])
    assert of_type(up, ErrorFrame) and events.types() == ["failover", "failover_retry", "failover_exhausted"]
