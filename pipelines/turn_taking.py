"""When the candidate's turn starts and ends: the VAD, the turn strategies and the context aggregators.

Interviews differ from chit-chat: candidates pause to think mid-answer. The interview
strategy (default, turn_taking/) weighs the words by rule and by the end-of-turn model,
Smart Turn's probability and this candidate's pauses at every pause; ``smart_turn`` and
``silence`` are Pipecat's own strategies. See docs/architecture.md (turn-taking).
"""

from __future__ import annotations

from collections.abc import Callable

from pipecat.audio.turn.smart_turn.base_smart_turn import SmartTurnParams
from pipecat.audio.vad.vad_analyzer import VADParams
from pipecat.processors.aggregators.llm_context import LLMContext
from pipecat.processors.aggregators.llm_response_universal import (
    LLMAssistantAggregatorParams,
    LLMContextAggregatorPair,
    LLMUserAggregatorParams,
)
from pipecat.services.llm_service import LLMService
from pipecat.turns.empty_user_turn import EmptyUserTurnConfig
from pipecat.turns.user_start.vad_user_turn_start_strategy import VADUserTurnStartStrategy
from pipecat.turns.user_stop.base_user_turn_stop_strategy import BaseUserTurnStopStrategy
from pipecat.turns.user_stop.speech_timeout_user_turn_stop_strategy import SpeechTimeoutUserTurnStopStrategy
from pipecat.turns.user_stop.turn_analyzer_user_turn_stop_strategy import TurnAnalyzerUserTurnStopStrategy
from pipecat.turns.user_turn_strategies import UserTurnStrategies
from pipecat.utils.context.llm_context_summarization import LLMAutoContextSummarizationConfig, LLMContextSummaryConfig

from interview.config import TurnTaking
from interview.events import EventSink
from interview.interruptions import RESUME_INSTRUCTION
from interview.prompts import CONTEXT_SUMMARY_PROMPT, CONTEXT_SUMMARY_TEMPLATE
from turn_taking.end_of_turn_model import shared_end_of_turn_scorer
from turn_taking.interview_turn_stop import InterviewTurnStopStrategy, QuestionContext
from turn_taking.shared_smart_turn import SharedSmartTurnAnalyzer
from turn_taking.transcription_start import TranscriptionStartUnlessBackchannel
from turn_taking.vad_activity import SileroVADWithActivity


def build_vad_analyzer(turn_taking: TurnTaking) -> SileroVADWithActivity:
    return SileroVADWithActivity(
        params=VADParams(
            confidence=turn_taking.vad_confidence,
            start_secs=turn_taking.vad_start_secs,
            stop_secs=turn_taking.vad_stop_secs,
            min_volume=turn_taking.vad_min_volume,
        ),
        min_volume_after_silence=turn_taking.vad_min_volume_after_silence,
    )


def build_turn_strategies(
    turn_taking: TurnTaking,
    *,
    question: Callable[[], QuestionContext] = QuestionContext,
    events: EventSink | None = None,
    vad: SileroVADWithActivity | None = None,
) -> UserTurnStrategies:
    """Start on voice (or a transcript, unless it is an "mm-hm" over the bot); stop with the interview strategy, Smart Turn or silence."""
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


def context_summarization(summarizer: LLMService | None, max_tokens: int) -> LLMAssistantAggregatorParams:
    """Pipecat's context summarizer, on the primary cloud LLM called directly (not through the failover chain:
    the structured interviewer cannot summarise, and a failed summary only leaves the context as it was)."""
    if summarizer is None or not max_tokens:
        return LLMAssistantAggregatorParams()
    return LLMAssistantAggregatorParams(
        enable_auto_context_summarization=True,
        auto_context_summarization_config=LLMAutoContextSummarizationConfig(
            max_context_tokens=max_tokens,
            max_unsummarized_messages=None,
            summary_config=LLMContextSummaryConfig(
                target_context_tokens=max(100, max_tokens // 4),
                min_messages_after_summary=6,
                summarization_prompt=CONTEXT_SUMMARY_PROMPT,
                summary_message_template=CONTEXT_SUMMARY_TEMPLATE,
                llm=summarizer,
            ),
        ),
    )


def build_context_aggregators(
    context: LLMContext,
    turn_taking: TurnTaking,
    *,
    current_phase: Callable[[], str],
    events: EventSink | None,
    user_idle_timeout: float,
    assistant_params: LLMAssistantAggregatorParams | None = None,
) -> LLMContextAggregatorPair:
    """The user aggregator (VAD + turn strategies) and the assistant aggregator around `context`."""
    vad = build_vad_analyzer(turn_taking)
    return LLMContextAggregatorPair(
        context,
        assistant_params=assistant_params or LLMAssistantAggregatorParams(),
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
