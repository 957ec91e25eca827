"""The interview pipeline: the one path every frame of a live interview takes.

    transport.input()
      -> STT                     Deepgram | pocketsphinx
      -> user aggregator         Silero VAD + interview-tuned turn-stop strategy
      -> PhaseTracker            phase clock, interview tools, injections, session time limit
      -> LLM                     OpenAI(-compatible) | local structured interviewer
      -> TTS                     ElevenLabs | espeak-ng
      -> transport.output()
      -> recorder                stereo AudioBufferProcessor: candidate left, interviewer right
      -> assistant aggregator

Built the same way whatever the transport or providers; those differences stop
in transports/ and services/. Our processors (issue: interview processors) slot
in at the places shared/DESIGN.md shows.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipecat.audio.turn.smart_turn.base_smart_turn import SmartTurnParams
from pipecat.audio.turn.smart_turn.local_smart_turn_v3 import LocalSmartTurnAnalyzerV3
from pipecat.audio.vad.silero import SileroVADAnalyzer
from pipecat.audio.vad.vad_analyzer import VADParams
from pipecat.pipeline.pipeline import Pipeline
from pipecat.processors.aggregators.llm_context import LLMContext
from pipecat.processors.aggregators.llm_response_universal import (
    LLMAssistantAggregator,
    LLMContextAggregatorPair,
    LLMUserAggregator,
    LLMUserAggregatorParams,
)
from pipecat.processors.audio.audio_buffer_processor import AudioBufferProcessor
from pipecat.processors.frame_processor import FrameProcessor
from pipecat.services.llm_service import LLMService
from pipecat.transports.base_transport import BaseTransport
from pipecat.turns.user_start.transcription_user_turn_start_strategy import TranscriptionUserTurnStartStrategy
from pipecat.turns.user_start.vad_user_turn_start_strategy import VADUserTurnStartStrategy
from pipecat.turns.user_stop.speech_timeout_user_turn_stop_strategy import SpeechTimeoutUserTurnStopStrategy
from pipecat.turns.user_stop.turn_analyzer_user_turn_stop_strategy import TurnAnalyzerUserTurnStopStrategy
from pipecat.turns.user_turn_strategies import UserTurnStrategies

from interview.config import TurnTaking

RECORDING_CHUNK_SECONDS = 5


@dataclass
class InterviewPipeline:
    """The built pipeline plus the parts a session needs to hook events on."""

    pipeline: Pipeline
    context: LLMContext
    user_aggregator: LLMUserAggregator
    assistant_aggregator: LLMAssistantAggregator
    recorder: AudioBufferProcessor


def build_vad_analyzer(turn_taking: TurnTaking) -> SileroVADAnalyzer:
    return SileroVADAnalyzer(
        params=VADParams(
            confidence=turn_taking.vad_confidence,
            start_secs=turn_taking.vad_start_secs,
            stop_secs=turn_taking.vad_stop_secs,
            min_volume=turn_taking.vad_min_volume,
        )
    )


def build_turn_strategies(turn_taking: TurnTaking) -> UserTurnStrategies:
    """Start on voice (or a transcript), stop on Smart Turn or a plain silence timeout.

    Interviews differ from chit-chat: candidates pause to think mid-answer, so the
    Smart Turn fallback silence and the silence timeout are longer than Pipecat's
    defaults and come from the interview config.
    """
    start = [
        VADUserTurnStartStrategy(enable_interruptions=turn_taking.allow_interruptions),
        TranscriptionUserTurnStartStrategy(enable_interruptions=turn_taking.allow_interruptions),
    ]
    if turn_taking.stop_strategy == "silence":
        stop = [SpeechTimeoutUserTurnStopStrategy(user_speech_timeout=turn_taking.silence_timeout_secs)]
    else:
        analyzer = LocalSmartTurnAnalyzerV3(params=SmartTurnParams(stop_secs=turn_taking.smart_turn_max_silence_secs))
        stop = [TurnAnalyzerUserTurnStopStrategy(turn_analyzer=analyzer)]
    return UserTurnStrategies(start=start, stop=stop)


def build_recorder(sample_rate: int) -> AudioBufferProcessor:
    """Stereo recorder that hands over audio every few seconds so nothing piles up in memory."""
    bytes_per_second = sample_rate * 2 * 2  # 16-bit, two channels
    return AudioBufferProcessor(
        sample_rate=sample_rate,
        num_channels=2,
        buffer_size=bytes_per_second * RECORDING_CHUNK_SECONDS,
    )


def build_interview_pipeline(
    *,
    transport: BaseTransport,
    stt: FrameProcessor,
    llm: LLMService,
    tts: FrameProcessor,
    phase_tracker: FrameProcessor,
    context: LLMContext,
    turn_taking: TurnTaking,
    recording_sample_rate: int,
    user_idle_timeout: float = 0,
) -> InterviewPipeline:
    aggregators = LLMContextAggregatorPair(
        context,
        user_params=LLMUserAggregatorParams(
            vad_analyzer=build_vad_analyzer(turn_taking),
            user_turn_strategies=build_turn_strategies(turn_taking),
            user_idle_timeout=user_idle_timeout,
        ),
    )
    recorder = build_recorder(recording_sample_rate)
    pipeline = Pipeline(
        [
            transport.input(),
            stt,
            aggregators.user(),
            phase_tracker,
            llm,
            tts,
            transport.output(),
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
    )
