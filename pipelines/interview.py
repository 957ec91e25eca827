"""The interview pipeline: the one path every frame of a live interview takes, and everything in it.

    transport.input()
      -> (transport's own)         e.g. Twilio: the session's end waits until the goodbye was heard
      -> LatencyProbe "input"      the listener's playback-started mark (candidate page)
      -> keypad requests           phone keypad (DTMF) -> the candidate's request
      -> EchoGate                  bot-audible inbound audio -> silence, except real barge-in
      -> STT                       Deepgram | Whisper (embedded)
      -> LatencyProbe "stt"        the final transcript
      -> user aggregator           Silero VAD + the turn-stop strategy (pipelines/turn_taking.py)
      -> resumed answer            the candidate went on after the reply began: one answer
      -> LatencyProbe "user"       speech start/stop, turn committed, barge-in
      -> InterviewEvaluator        the transcript, written once; each finished answer scored
      -> PhaseTracker              phase clock, interview tools, injections, session time limit
      -> LLM                       OpenAI(-compatible) | local structured interviewer
      -> LatencyProbe "llm"        first token, tool calls
      -> interrupted reply         a reply the candidate talks over is written to the context as cut
      -> TTS                       ElevenLabs | Piper (embedded)
      -> LatencyProbe "tts"        first audio
      -> filler speech             one short phrase when the reply is late or a failover is under way
      -> (transport's own)         e.g. Twilio playback marks, in order with the audio
      -> transport.output()
      -> echo gate's output tap    the audio the bot sent: the reference the echo gate predicts echo from
      -> LatencyProbe "output"     the bot started speaking
      -> recorder                  stereo, candidate left (real mic audio) / interviewer right
      -> assistant aggregator

Built the same way whatever the transport or providers (those differences stop in
transports/ and services/), from one `PipelineInputs`; the session (bots/session.py) keeps
only the lifecycle.
"""

from __future__ import annotations

from dataclasses import dataclass
from time import monotonic
from typing import Protocol

from pipecat.pipeline.pipeline import Pipeline
from pipecat.processors.aggregators.llm_context import LLMContext
from pipecat.processors.aggregators.llm_context_summarizer import SummaryAppliedEvent
from pipecat.processors.aggregators.llm_response_universal import (
    AssistantTurnStoppedMessage,
    LLMAssistantAggregator,
    LLMUserAggregator,
)
from pipecat.processors.frame_processor import FrameProcessor

from interview.config import InterviewConfig, Persona
from interview.scoring import Scorer
from interview.session_snapshot import SessionSnapshot
from latency.instrumentation import LatencyInstrumentation
from latency.points import LatencyPoint
from pipelines.listener_playback import ListenerPlayback
from pipelines.parts import build_context, build_filler, build_recorder, build_resumed_answer, resumed_state
from pipelines.turn_taking import build_context_aggregators, context_summarization
from processors.dtmf_requests import KeypadRequests
from processors.echo_gate import EchoGate
from processors.filler_speech import FillerSpeech
from processors.interrupted_reply import InterruptedReply
from processors.interview_evaluator import InterviewEvaluator, SessionTranscript
from processors.latency_probe import LatencyProbe
from processors.mic_recorder import MicRecorder
from processors.phase_tracker import PhaseTracker
from services.factory import SessionServices
from services.failover.wiring import wire_failover
from settings import Settings
from transports.common import TransportHandle


class SessionRecordSink(SessionTranscript, Protocol):
    """The session record as the pipeline writes it: events, transcript lines, evaluation.json, audio."""

    async def append_audio(self, audio: bytes, sample_rate: int, num_channels: int) -> None: ...


@dataclass(frozen=True)
class PipelineInputs:
    """What one session's pipeline is built from."""

    config: InterviewConfig
    settings: Settings
    services: SessionServices
    handle: TransportHandle
    record: SessionRecordSink
    scorer: Scorer
    session_id: str
    persona: Persona = "interviewer"
    candidate_name: str | None = None
    instructions: str | None = None  # extra system guidance from the session contract
    resume: SessionSnapshot | None = None  # go on from this saved session instead of starting one


@dataclass
class InterviewPipeline:
    """The built pipeline plus the parts the session's lifecycle talks to."""

    pipeline: Pipeline
    context: LLMContext
    user_aggregator: LLMUserAggregator
    assistant_aggregator: LLMAssistantAggregator
    echo_gate: EchoGate
    phase_tracker: PhaseTracker
    evaluator: InterviewEvaluator
    latency: LatencyInstrumentation
    recorder: MicRecorder
    filler: FillerSpeech | None


def build_interview_pipeline(inputs: PipelineInputs) -> InterviewPipeline:
    """Every frame processor of one session, wired to its record, in the order frames pass them."""
    config, record, services, handle = inputs.config, inputs.record, inputs.services, inputs.handle
    context = build_context(
        config,
        persona=inputs.persona,
        session_id=inputs.session_id,
        candidate_name=inputs.candidate_name,
        instructions=inputs.instructions,
        resume=inputs.resume,
    )
    tracker = PhaseTracker(
        config, context, events=record, resume_from=resumed_state(inputs.resume, config, monotonic())
    )
    context.set_tools(tracker.tools_schema())

    def current_phase() -> str:
        return tracker.state.current_phase

    latency = LatencyInstrumentation.for_session(config, events=record)
    evaluator = InterviewEvaluator(config, inputs.scorer, record, current_phase=current_phase)
    if inputs.resume is not None:
        evaluator.restore(inputs.resume)
    echo_gate = EchoGate(config.echo_gate, events=record)
    output_tap = echo_gate.output_tap()
    keypad = KeypadRequests(config.keypad, events=record, on_request=evaluator.keypad_request)
    filler = build_filler(inputs.settings, record, latency)
    aggregators = build_context_aggregators(
        context,
        config.turn_taking,
        current_phase=current_phase,
        events=record,
        user_idle_timeout=config.timeouts.user_idle_seconds,
        assistant_params=context_summarization(services.summarizer, inputs.settings.llm_context_max_tokens),
    )
    user, assistant = aggregators.user(), aggregators.assistant()

    @assistant.event_handler("on_summary_applied")
    async def note_summary(
        _aggregator: LLMAssistantAggregator, _summarizer: object, applied: SummaryAppliedEvent
    ) -> None:
        record.event(
            "context_summarized",
            messages_before=applied.original_message_count,
            messages_after=applied.new_message_count,
            summarized=applied.summarized_message_count,
        )

    resumed_answer = build_resumed_answer(config.turn_taking, context, record)
    interrupted_reply = InterruptedReply(context, events=record)

    # Registered before the evaluator's handler, so it runs first: the transcript gets the marked text.
    @assistant.event_handler("on_assistant_turn_stopped")
    async def mark_cut_reply(_aggregator: LLMAssistantAggregator, message: AssistantTurnStoppedMessage) -> None:
        message.content = interrupted_reply.on_assistant_turn_stopped(message.content, message.interrupted)

    evaluator.attach(user, assistant)
    recorder = build_recorder(handle.input_sample_rate)

    @recorder.event_handler("on_audio_data")
    async def on_audio_data(_buffer: MicRecorder, audio: bytes, sample_rate: int, num_channels: int) -> None:
        await record.append_audio(audio, sample_rate, num_channels)

    wire_failover(services.switchers, events=record, latency=latency, filler=filler)
    if handle.playback is not None:
        handle.playback.add_listener(ListenerPlayback(echo_gate, latency.tracker))

    def probe(point: LatencyPoint) -> LatencyProbe:
        return LatencyProbe(latency.tracker, point)

    def present(*processors: FrameProcessor | None) -> list[FrameProcessor]:
        return [p for p in processors if p is not None]

    pipeline = Pipeline(
        [
            handle.transport.input(),
            *handle.after_input,
            probe("input"),
            keypad,
            echo_gate,
            services.stt,
            probe("stt"),
            user,
            *present(resumed_answer),
            probe("user"),
            evaluator,
            tracker,
            services.llm,
            probe("llm"),
            interrupted_reply,
            services.tts,
            probe("tts"),
            *present(filler),
            *handle.before_output,
            handle.transport.output(),
            output_tap,
            probe("output"),
            recorder,
            assistant,
        ]
    )
    return InterviewPipeline(
        pipeline=pipeline,
        context=context,
        user_aggregator=user,
        assistant_aggregator=assistant,
        echo_gate=echo_gate,
        phase_tracker=tracker,
        evaluator=evaluator,
        latency=latency,
        recorder=recorder,
        filler=filler,
    )
