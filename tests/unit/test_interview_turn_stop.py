"""InterviewTurnStopStrategy in Pipecat's user aggregator, with real Silero, Smart Turn and Whisper.

The candidate's Piper voice is streamed in 20 ms frames through Whisper and the user
aggregator (Silero VAD + the strategy); wall-clock pauses come from SleepFrames. A turn
end shows as the aggregator's LLMContextFrame; each decision as a turn_decision event.
"""

from __future__ import annotations

import asyncio
from typing import Any

from pipecat.audio.turn.smart_turn.base_smart_turn import SmartTurnParams
from pipecat.frames.frames import (
    EagerEndOfTurnCancelFrame,
    Frame,
    InputAudioRawFrame,
    LLMContextFrame,
    UserStoppedSpeakingFrame,
)
from pipecat.pipeline.pipeline import Pipeline
from pipecat.processors.aggregators.llm_context import LLMContext
from pipecat.processors.aggregators.llm_response_universal import LLMUserAggregator, LLMUserAggregatorParams
from pipecat.tests.utils import SleepFrame, run_test
from pipecat.turns.user_start.vad_user_turn_start_strategy import VADUserTurnStartStrategy
from pipecat.turns.user_turn_strategies import UserTurnStrategies

from interview.config import Backchannel, InterviewTurnStop, TurnTaking
from pipelines.turn_taking import build_vad_analyzer
from scripts.candidate_voice import default_candidate_synthesizer
from services.local_models import LOCAL_MODELS, WhisperOptions
from services.local_stt import InterviewWhisperSTTService
from turn_taking.end_of_turn_model import EndOfTurnScore, EndOfTurnScorer
from turn_taking.interview_turn_stop import InterviewTurnStopStrategy, QuestionContext
from turn_taking.shared_smart_turn import SharedSmartTurnAnalyzer

RATE = 16000
CHUNK = RATE // 50 * 2
SETTINGS = InterviewTurnStop(done_wait_secs=0.8, unsure_wait_secs=1.5, unfinished_wait_secs=3.0, max_wait_secs=4.0)
QUESTION = QuestionContext("How would you design a service that accepts payments?", "system_design")


class Events:
    def __init__(self) -> None:
        self.items: list[tuple[str, dict[str, Any]]] = []

    def event(self, kind: str, **data: Any) -> None:
        self.items.append((kind, data))

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [d for k, d in self.items if k == kind]


def said(text: str) -> list[Frame]:
    """The answer in 20 ms frames, paced at about real time (VAD frames must reach the STT in step)."""
    pcm = default_candidate_synthesizer().synthesize(text, RATE)
    frames: list[Frame] = []
    for n, i in enumerate(range(0, len(pcm), CHUNK)):
        frames.append(InputAudioRawFrame(pcm[i : i + CHUNK], RATE, 1))
        if n % 5 == 4:
            frames.append(SleepFrame(0.1))
    return frames


def silence(seconds: float) -> list[Frame]:
    """Quiet microphone frames, paced like ``said``."""
    frames: list[Frame] = []
    for n in range(int(seconds * 50)):
        frames.append(InputAudioRawFrame(bytes(CHUNK), RATE, 1))
        if n % 5 == 4:
            frames.append(SleepFrame(0.1))
    return frames


def interview_pipeline(
    settings: InterviewTurnStop,
    events: Events,
    stt: InterviewWhisperSTTService | None = None,
    end_of_turn: EndOfTurnScorer | None = None,
) -> Pipeline:
    vad = build_vad_analyzer(TurnTaking())
    strategy = InterviewTurnStopStrategy(
        settings,
        smart_turn=SharedSmartTurnAnalyzer(params=SmartTurnParams(stop_secs=60)),
        context=lambda: QUESTION,
        events=events,
        voice_heard_within=vad.heard_voice_within,
        end_of_turn=end_of_turn,
    )
    aggregator = LLMUserAggregator(
        LLMContext(),
        params=LLMUserAggregatorParams(
            vad_analyzer=vad,
            user_turn_strategies=UserTurnStrategies(start=[VADUserTurnStartStrategy()], stop=[strategy]),
            user_turn_stop_timeout=settings.max_wait_secs + 2,
        ),
    )
    stt = stt or InterviewWhisperSTTService(model=LOCAL_MODELS.whisper(WhisperOptions()))
    return Pipeline([stt, aggregator])


async def turns(frames: list[Frame], settings: InterviewTurnStop = SETTINGS) -> tuple[list[str], Events]:
    """The answers the LLM was asked to reply to: a confirmed speculation, or an ordinary turn end."""
    texts, _, events = await replies(frames, settings)
    return texts, events


async def replies(
    frames: list[Frame],
    settings: InterviewTurnStop = SETTINGS,
    stt: InterviewWhisperSTTService | None = None,
    end_of_turn: EndOfTurnScorer | None = None,
) -> tuple[list[str], list[Frame], Events]:
    events = Events()
    down, _ = await run_test(
        interview_pipeline(settings, events, stt, end_of_turn), frames_to_send=[*silence(0.3), *frames]
    )
    texts: list[str] = []
    for frame in down:
        if isinstance(frame, LLMContextFrame):
            texts.append(frame.context.messages[-1]["content"])
        elif isinstance(frame, EagerEndOfTurnCancelFrame) and texts:
            texts.pop()  # that prepared reply was withdrawn
    return texts, down, events


async def test_a_finished_answer_ends_after_the_short_wait() -> None:
    texts, events = await turns(
        [*said("We store the key in the same transaction as the payment record."), *silence(0.5), SleepFrame(3.0)]
    )
    assert len(texts) == 1 and "transaction" in texts[0]
    (decision,) = events.of("turn_decision")
    assert decision["verdict"] == "done" and decision["wait_secs"] == 0.8
    assert decision["smart_turn_probability"] is not None


async def test_an_unfinished_answer_waits_through_a_thinking_pause_and_stays_one_answer() -> None:
    frames = [
        *said("So the first thing I would do for the payment service is"), *silence(0.5), SleepFrame(2.0),
        *said("put a queue in front of it and scale the workers behind it."), *silence(0.5), SleepFrame(3.0),
    ]  # fmt: skip
    texts, events = await turns(frames)
    assert len(texts) == 1, texts
    assert "payment service" in texts[0] and "workers" in texts[0]
    verdicts = [d["verdict"] for d in events.of("turn_decision")]
    assert verdicts[0] == "unfinished", verdicts
    (resumed,) = events.of("turn_pause_resumed")
    assert 1.5 < resumed["pause_secs"] < 3.0


class ScriptedJudge:
    """Stands in for the end-of-turn model's thread (the model itself: tests/unit/test_end_of_turn_model.py)."""

    def __init__(self, log_p: float | None) -> None:
        self.log_p = log_p
        self.asked: list[tuple[str, str]] = []
        self.primed: list[str] = []

    def prime(self, question: str) -> None:
        self.primed.append(question)

    async def score(self, question: str, answer: str) -> EndOfTurnScore:
        self.asked.append((question, answer))
        if self.log_p is None:
            raise RuntimeError("model crashed")
        return EndOfTurnScore(self.log_p, 20.0, 3)


async def test_the_model_judging_the_words_unfinished_keeps_a_finished_sounding_clause_open() -> None:
    frames = [
        *said("We store the key in the same transaction as the payment record."), *silence(0.5), SleepFrame(1.6),
        *said("And a retry just returns the first result."), *silence(0.5), SleepFrame(3.0),
    ]  # fmt: skip
    judge = ScriptedJudge(-20.0)
    texts, _, events = await replies(frames, end_of_turn=judge)  # type: ignore[arg-type]
    assert len(texts) == 1 and "first result" in texts[0], texts
    first = events.of("turn_decision")[0]
    assert first["verdict"] == "unfinished" and first["end_of_turn_log_p"] == -20.0
    assert judge.asked[0][0] == QUESTION.question and judge.asked[0][1].endswith(first["text_tail"])
    assert judge.primed == [QUESTION.question], "the question is evaluated once, when the answer starts"
    rules_only, _, _ = await replies(frames)
    assert len(rules_only) == 2, "without the model the first sentence is taken for the answer"


async def test_a_broken_model_leaves_the_decision_to_the_rules() -> None:
    frames = [*said("We store the key in the same transaction as the payment record."), *silence(0.5), SleepFrame(2.0)]
    texts, _, events = await replies(frames, end_of_turn=ScriptedJudge(None))  # type: ignore[arg-type]
    assert len(texts) == 1
    (decision,) = events.of("turn_decision")
    assert decision["verdict"] == "done" and decision["end_of_turn_log_p"] is None
    assert "model crashed" in events.of("turn_model_error")[0]["error"]


async def test_the_ceiling_ends_a_silent_unfinished_answer() -> None:
    settings = InterviewTurnStop(done_wait_secs=0.5, unsure_wait_secs=1.0, unfinished_wait_secs=2.0, max_wait_secs=2.0)
    texts, events = await turns([*said("I would probably use a"), *silence(0.5), SleepFrame(4.0)], settings)
    assert len(texts) == 1
    assert events.of("turn_decision")[0]["verdict"] == "unfinished"


async def test_a_backchannel_cue_is_said_in_a_long_unfinished_pause_outside_the_context() -> None:
    settings = InterviewTurnStop(
        done_wait_secs=0.5, unsure_wait_secs=1.0, unfinished_wait_secs=4.0, max_wait_secs=4.0,
        backchannel=Backchannel(enabled=True, after_secs=1.5, phrases=["Mm-hm."], min_interval_secs=0),
    )  # fmt: skip
    events = Events()
    down, _ = await run_test(
        interview_pipeline(settings, events),
        frames_to_send=[*silence(0.3), *said("So the way I would approach it is"), *silence(0.5), SleepFrame(5.5)],
    )
    from pipecat.frames.frames import TTSSpeakFrame

    cues = [f for f in down if isinstance(f, TTSSpeakFrame)]
    assert [c.text for c in cues] == ["Mm-hm."] and cues[0].append_to_context is False
    assert [d["text"] for d in events.of("backchannel")] == ["Mm-hm."]


async def test_a_finished_answer_is_prepared_early_and_released_at_the_turn_end() -> None:
    texts, down, events = await replies(
        [*said("We store the key in the same transaction as the payment record."), *silence(0.5), SleepFrame(3.0)],
        SETTINGS.model_copy(update={"speculate": True}),
    )
    contexts = [f for f in down if isinstance(f, LLMContextFrame)]
    assert len(contexts) == 1 and contexts[0].speculation, "one inference, started before the turn ended"
    stopped = next(i for i, f in enumerate(down) if isinstance(f, UserStoppedSpeakingFrame))
    assert down.index(contexts[0]) < stopped
    assert not any(isinstance(f, EagerEndOfTurnCancelFrame) for f in down)
    assert len(texts) == 1 and "transaction" in texts[0]
    assert events.of("turn_speculation")


async def test_a_prepared_reply_is_withdrawn_when_the_candidate_goes_on() -> None:
    settings = InterviewTurnStop(
        done_wait_secs=1.5, unsure_wait_secs=1.5, unfinished_wait_secs=3.0, max_wait_secs=4.0, speculate=True
    )
    frames = [
        *said("We store the key in the same transaction as the payment record."), *silence(1.1),
        *said("And a retry just returns the first result."), *silence(0.5), SleepFrame(3.0),
    ]  # fmt: skip
    texts, down, events = await replies(frames, settings)
    assert events.of("turn_speculation"), "the reply was prepared in the pause"
    assert any(isinstance(f, EagerEndOfTurnCancelFrame) for f in down), "and withdrawn when the candidate went on"
    assert len(texts) == 1 and "transaction" in texts[0] and "first result" in texts[0], texts


async def test_a_short_answer_to_an_open_question_waits_the_unsure_time() -> None:
    texts, events = await turns([*said("I'd use Postgres."), *silence(0.5), SleepFrame(3.0)])
    assert len(texts) == 1, texts
    (decision,) = events.of("turn_decision")
    # Seen once under load as "done": the event (transcript, reasons) says which input moved it.
    assert decision["verdict"] == "unsure" and decision["wait_secs"] == SETTINGS.unsure_wait_secs, decision


class SlowTranscript(InterviewWhisperSTTService):
    """The real recogniser, but one segment's transcript lands late (a loaded machine, a slow cloud STT)."""

    def __init__(self, delay_secs: float, segment: int = 2, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._delay_secs = delay_secs
        self._slow_segment = segment
        self._segments = 0

    async def run_stt(self, audio: bytes):  # type: ignore[override]
        self._segments += 1
        if self._segments == self._slow_segment:
            await asyncio.sleep(self._delay_secs)
        async for frame in super().run_stt(audio):
            yield frame


async def test_a_late_transcript_of_the_last_words_is_waited_for_not_left_out() -> None:
    settings = InterviewTurnStop(done_wait_secs=1.2, unsure_wait_secs=1.2, unfinished_wait_secs=3.0, max_wait_secs=6.0)
    # Past DEFAULT_STT_WAIT_SECS (1.5: decided without it), inside STT_GIVE_UP_SECS (3.0) with room for Whisper's
    # own time on a loaded machine (2.2 s failed once under load: 2.2 + a slow transcription > 3.0).
    slow_stt = SlowTranscript(1.8, model=LOCAL_MODELS.whisper(WhisperOptions()))
    frames = [
        *said("We store the key in one transaction."), *silence(0.6),
        *said("And a retry just returns the first result."), *silence(0.5), SleepFrame(4.5),
    ]  # fmt: skip
    texts, _, events = await replies(frames, settings, slow_stt)
    assert len(texts) == 1 and "first result" in texts[0], texts
    assert events.of("turn_decision")[-1]["words"] >= 14


async def test_a_confirmed_reply_withdrawn_for_a_tool_call_is_answered_by_a_fresh_inference() -> None:
    # Pipecat's LLM service withdraws a prepared reply that wants a tool call; when the turn
    # end already confirmed it, no inference would follow (a silent interviewer) without the rerun.
    events = Events()
    frames = [
        *said("We store the key in the same transaction as the payment record."), *silence(0.5), SleepFrame(2.0),
        EagerEndOfTurnCancelFrame(), SleepFrame(0.5),
    ]  # fmt: skip
    down, _ = await run_test(
        interview_pipeline(SETTINGS.model_copy(update={"speculate": True}), events),
        frames_to_send=[*silence(0.3), *frames],
    )
    contexts = [f for f in down if isinstance(f, LLMContextFrame)]
    assert [c.speculation for c in contexts] == [True, False]
    assert "transaction" in contexts[1].context.messages[-1]["content"]
    assert events.of("turn_speculation_rerun")


async def test_a_withdrawal_before_the_turn_end_needs_no_rerun() -> None:
    settings = SETTINGS.model_copy(update={"speculate": True, "done_wait_secs": 1.5})
    events = Events()
    frames = [
        *said("We store the key in the same transaction as the payment record."), *silence(0.7),
        EagerEndOfTurnCancelFrame(), *silence(0.5), SleepFrame(2.0),
    ]  # fmt: skip
    down, _ = await run_test(interview_pipeline(settings, events), frames_to_send=[*silence(0.3), *frames])
    contexts = [f for f in down if isinstance(f, LLMContextFrame)]
    assert [c.speculation for c in contexts] == [True, False], "the turn end runs the inference itself"
    assert not events.of("turn_speculation_rerun")


def late_in_bursts(seconds: float, gap_secs: float) -> list[Frame]:
    """Quiet frames delivered the way a loaded machine delivers them: 0.1 s of audio at once, every ``gap_secs``."""
    frames: list[Frame] = []
    for n in range(int(seconds * 50)):
        if n % 5 == 0:
            frames.append(SleepFrame(gap_secs))
        frames.append(InputAudioRawFrame(bytes(CHUNK), RATE, 1))
    return frames


async def test_a_backlog_of_audio_does_not_end_the_wait_before_the_silence_is_heard() -> None:
    # 0.9 s of real silence after the first sentence, delivered over ~2.1 s of wall time (frames
    # arriving late, as under load): the 1.5 s wait is counted in audio, so the candidate's next
    # sentence joins the answer. Timed on the wall clock, the turn ended in the backlog.
    settings = InterviewTurnStop(done_wait_secs=1.5, unsure_wait_secs=1.5, unfinished_wait_secs=3.0, max_wait_secs=4.0)
    frames = [
        *said("We store the key in the same transaction as the payment record."), *silence(0.3),
        *late_in_bursts(0.6, gap_secs=0.3),
        *said("And a retry just returns the first result."), *silence(0.5), SleepFrame(3.0),
    ]  # fmt: skip
    texts, events = await turns(frames, settings)
    assert len(texts) == 1 and "transaction" in texts[0] and "first result" in texts[0], texts
    (resumed,) = events.of("turn_pause_resumed")
    assert resumed["pause_secs"] < 1.2, "the pause is the audio's, not the backlog's wall time"


async def test_a_pause_the_candidate_went_on_after_before_its_transcript_landed_still_teaches() -> None:
    # The first sentence's transcript lands 1.6 s late, after the candidate went on: no decision
    # was made at that pause, but it followed finished-sounding words and outlasted the done wait,
    # so it is judged when the words land and learned as a near miss, as it would be on a fast machine.
    settings = InterviewTurnStop(done_wait_secs=0.8, unsure_wait_secs=2.0, unfinished_wait_secs=3.0, max_wait_secs=4.0)
    slow_stt = SlowTranscript(1.6, segment=1, model=LOCAL_MODELS.whisper(WhisperOptions()))
    frames = [
        *said("We store the key in the same transaction as the payment record."), *silence(1.0),
        *said("And a retry just returns the first result."), *silence(0.5), SleepFrame(4.0),
    ]  # fmt: skip
    texts, _, events = await replies(frames, settings, slow_stt)
    assert len(texts) == 1 and "first result" in texts[0], texts
    (late,) = events.of("turn_pause_judged_late")
    assert late["verdict"] in ("done", "unsure") and late["pause_secs"] > 0.8, late
    last = events.of("turn_decision")[-1]
    assert last["verdict"] != "done" or last["wait_secs"] > 0.8 + 0.4, last
