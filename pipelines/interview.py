"""The interview pipeline: the one path every frame of a live interview takes.

    transport.input()
      -> (transport's own)         e.g. Twilio: the session's end waits until the goodbye was heard
      -> keypad requests           phone keypad (DTMF) -> the candidate's request (when configured)
      -> EchoGate                  bot-audible inbound audio -> silence, except real barge-in
      -> STT                       Deepgram | Whisper (embedded)
      -> user aggregator           Silero VAD + the interview turn-stop strategy (turn_taking/:
                                   words by rule and by the end-of-turn model, Smart Turn, habits)
      -> resumed answer            the candidate went on after the reply began: one answer
      -> PhaseTracker              phase clock, interview tools, injections, session time limit
      -> LLM                       OpenAI(-compatible) | local structured interviewer
      -> interrupted reply         a reply the candidate talks over is written to the context as cut
      -> TTS                       ElevenLabs | Piper (embedded)
      -> filler speech             one short phrase when the reply is late or a failover is under way
      -> (transport's own)         e.g. Twilio playback marks, in order with the audio
      -> transport.output()
      -> echo gate's output tap    the audio the bot sent: the reference the echo gate predicts echo from
      -> recorder                  stereo, candidate left (real mic audio) / interviewer right
      -> assistant aggregator

Built the same way whatever the transport or providers; those differences stop
in transports/ and services/. Latency is not in this path: one observer
(latency/observer.py) reads the moments of each turn off what six of these
processors push (`LatencyInstrumentation.watch` below).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pipecat.audio.turn.smart_turn.base_smart_turn import SmartTurnParams
from pipecat.audio.vad.vad_analyzer import VADParams
from pipecat.pipeline.pipeline import Pipeline
from pipecat.processors.aggregators.llm_context import LLMContext
from pipecat.processors.aggregators.llm_response_universal import (
    AssistantTurnStoppedMessage,
    LLMAssistantAggregator,
    LLMContextAggregatorPair,
    LLMUserAggregator,
    LLMUserAggregatorParams,
)
from pipecat.processors.frame_processor import FrameProcessor
from pipecat.transports.base_transport import BaseTransport
from pipecat.turns.empty_user_turn import EmptyUserTurnConfig
from pipecat.turns.user_start.vad_user_turn_start_strategy import VADUserTurnStartStrategy
from pipecat.turns.user_stop.base_user_turn_stop_strategy import BaseUserTurnStopStrategy
from pipecat.turns.user_stop.speech_timeout_user_turn_stop_strategy import SpeechTimeoutUserTurnStopStrategy
from pipecat.turns.user_stop.turn_analyzer_user_turn_stop_strategy import TurnAnalyzerUserTurnStopStrategy
from pipecat.turns.user_turn_strategies import UserTurnStrategies

from interview.config import TurnTaking
from interview.interruptions import RESUME_INSTRUCTION
from latency.instrumentation import LatencyInstrumentation
from processors.dtmf_requests import KeypadRequests
from processors.echo_gate import EchoGate
from processors.events import EventSink
from processors.filler_speech import FillerSpeech
from processors.interrupted_reply import InterruptedReply
from processors.mic_recorder import MicRecorder
from processors.phase_tracker import PhaseTracker
from processors.resumed_answer import ResumedAnswer
from turn_taking.end_of_turn_model import shared_end_of_turn_scorer
from turn_taking.interview_turn_stop import InterviewTurnStopStrategy, QuestionContext
from turn_taking.shared_smart_turn import SharedSmartTurnAnalyzer
from turn_taking.transcription_start import TranscriptionStartUnlessBackchannel
from turn_taking.vad_activity import SileroVADWithActivity

RECORDING_CHUNK_SECONDS = 5


@dataclass
class InterviewProcessors:
    """Our own processors for one session (each one per session: they hold its state)."""

    echo_gate: EchoGate
    phase_tracker: PhaseTracker
    latency: LatencyInstrumentation
    keypad: KeypadRequests | None = None  # phone keypad shortcuts (DTMF), right after the input
    filler: FillerSpeech | None = None  # a short phrase when the reply is late, right after the TTS
    resumed_answer: ResumedAnswer | None = None  # keeps a resumed answer one answer, after the user aggregator


@dataclass
class InterviewPipeline:
    """The built pipeline plus the parts a session needs to hook events on."""

    pipeline: Pipeline
    context: LLMContext
    user_aggregator: LLMUserAggregator
    assistant_aggregator: LLMAssistantAggregator
    recorder: MicRecorder
    interrupted_reply: InterruptedReply


def build_vad_analyzer(turn_taking: TurnTaking) -> SileroVADWithActivity:
    return SileroVADWithActivity(
        params=VADParams(
            confidence=turn_taking.vad_confidence,
            start_secs=turn_taking.vad_start_secs,
            stop_secs=turn_taking.vad_stop_secs,
            min_volume=turn_taking.vad_min_volume,
        )
    )


def build_turn_strategies(
    turn_taking: TurnTaking,
    *,
    question: Callable[[], QuestionContext] = QuestionContext,
    events: EventSink | None = None,
    vad: SileroVADWithActivity | None = None,
) -> UserTurnStrategies:
    """Start on voice (or a transcript, unless it is an "mm-hm" over the bot); stop with the interview strategy, Smart Turn or silence.

    Interviews differ from chit-chat: candidates pause to think mid-answer. The interview
    strategy (default) weighs the words, Smart Turn's probability and this candidate's
    pauses at every pause; ``smart_turn`` and ``silence`` are Pipecat's own strategies.
    """
    start = [
        VADUserTurnStartStrategy(enable_interruptions=turn_taking.allow_interruptions),
        TranscriptionStartUnlessBackchannel(enable_interruptions=turn_taking.allow_interruptions),
    ]
    stop: list[BaseUserTurnStopStrategy]
    if turn_taking.stop_strategy == "silence":
        stop = [SpeechTimeoutUserTurnStopStrategy(user_speech_timeout=turn_taking.silence_timeout_secs)]
    elif turn_taking.stop_strategy == "smart_turn":
        analyzer = SharedSmartTurnAnalyzer(params=SmartTurnParams(stop_secs=turn_taking.smart_turn_max_silence_secs))
        stop = [TurnAnalyzerUserTurnStopStrategy(turn_analyzer=analyzer)]
    else:
        # The analyzer only scores pauses here; its own silence timeout must never end a turn.
        analyzer = SharedSmartTurnAnalyzer(params=SmartTurnParams(stop_secs=turn_taking.interview.max_wait_secs + 60))
        stop = [
            InterviewTurnStopStrategy(
                turn_taking.interview,
                smart_turn=analyzer,
                context=question,
                events=events,
                voice_heard_within=vad.heard_voice_within if vad is not None else None,
                end_of_turn=shared_end_of_turn_scorer() if turn_taking.interview.end_of_turn_model else None,
            )
        ]
    return UserTurnStrategies(start=start, stop=stop)


def turn_stop_backstop_secs(turn_taking: TurnTaking) -> float:
    """Pipecat's user_turn_stop_timeout ends any turn after this much quiet: keep it past our own ceiling."""
    if turn_taking.stop_strategy == "interview":
        return turn_taking.interview.max_wait_secs + 2.0
    if turn_taking.stop_strategy == "smart_turn":
        return max(5.0, turn_taking.smart_turn_max_silence_secs + 2.0)
    return max(5.0, turn_taking.silence_timeout_secs + 2.0)


def last_question(context: LLMContext) -> str:
    """What the interviewer said last (the question an answer is answering)."""
    for message in reversed(context.messages):
        if isinstance(message, dict) and message.get("role") == "assistant":
            content = message.get("content")
            if isinstance(content, str):
                return content
    return ""


def build_recorder(sample_rate: int) -> MicRecorder:
    """Stereo recorder that hands over audio every few seconds so nothing piles up in memory."""
    bytes_per_second = sample_rate * 2 * 2  # 16-bit, two channels
    return MicRecorder(sample_rate=sample_rate, num_channels=2, buffer_size=bytes_per_second * RECORDING_CHUNK_SECONDS)


def build_interview_pipeline(
    *,
    transport: BaseTransport,
    stt: FrameProcessor,
    llm: FrameProcessor,
    tts: FrameProcessor,
    processors: InterviewProcessors,
    context: LLMContext,
    turn_taking: TurnTaking,
    recording_sample_rate: int,
    user_idle_timeout: float = 0,
    current_phase: Callable[[], str] = lambda: "",
    events: EventSink | None = None,
    after_input: Sequence[FrameProcessor] = (),
    before_output: Sequence[FrameProcessor] = (),
) -> InterviewPipeline:
    """`after_input` / `before_output`: the transport's own processors (see TransportHandle)."""
    vad = build_vad_analyzer(turn_taking)
    aggregators = LLMContextAggregatorPair(
        context,
        user_params=LLMUserAggregatorParams(
            vad_analyzer=vad,
            user_turn_strategies=build_turn_strategies(
                turn_taking,
                question=lambda: QuestionContext(last_question(context), current_phase()),
                events=events,
                vad=vad,
            ),
            user_turn_stop_timeout=turn_stop_backstop_secs(turn_taking),
            user_idle_timeout=user_idle_timeout,
            # An interruption with no words after it (a cough): resume the cut reply, not "please repeat".
            empty_user_turn=EmptyUserTurnConfig(interrupted_prompt=RESUME_INSTRUCTION),
        ),
    )
    latency = processors.latency
    recorder = build_recorder(recording_sample_rate)
    interrupted_reply = InterruptedReply(context, events=events)

    # Registered before any session handler, so it runs first: they see the marked text.
    @aggregators.assistant().event_handler("on_assistant_turn_stopped")
    async def mark_cut_reply(_aggregator: LLMAssistantAggregator, message: AssistantTurnStoppedMessage) -> None:
        message.content = interrupted_reply.on_assistant_turn_stopped(message.content, message.interrupted)

    user_side = processors.resumed_answer or aggregators.user()
    output_tap = processors.echo_gate.output_tap()
    # The moments of a turn are read off what these push (one observer, nothing in the frame path).
    latency.watch(
        input=after_input[-1] if after_input else transport.input(),
        stt=stt,
        user=user_side,
        llm=llm,
        tts=tts,
        output=output_tap,
    )
    pipeline = Pipeline(
        [
            transport.input(),
            *after_input,
            *([processors.keypad] if processors.keypad is not None else []),
            processors.echo_gate,
            stt,
            aggregators.user(),
            *([processors.resumed_answer] if processors.resumed_answer is not None else []),
            processors.phase_tracker,
            llm,
            interrupted_reply,
            tts,
            *([processors.filler] if processors.filler is not None else []),
            *before_output,
            transport.output(),
            output_tap,
            recorder,
            aggregators.assistant(),
        ]
    )
    return InterviewPipeline(
        pipeline=pipeline,
        context=context,
        user_aggregator=aggregators.user(),
        assistant_aggregator=aggregators.assistant(),
        recorder=recorder,
        interrupted_reply=interrupted_reply,
    )
