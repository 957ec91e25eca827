"""The parts of a session's pipeline that take more than a constructor call to build.

Each is built from the session's inputs (config, settings, record) so that `pipelines/interview.py`
reads as the list of processors, in order.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pipecat.processors.aggregators.llm_context import LLMContext

from interview.config import InterviewConfig, Persona, TurnTaking
from interview.events import EventSink
from interview.prompts import PromptBuilder, SessionDetails
from interview.session_snapshot import SessionSnapshot, SnapshotError
from interview.state import InterviewState, StateError
from latency.instrumentation import LatencyInstrumentation
from processors.filler_speech import FillerSpeech
from processors.mic_recorder import MicRecorder
from processors.resumed_answer import ResumedAnswer
from settings import Settings

RECORDING_CHUNK_SECONDS = 5


def build_context(
    config: InterviewConfig,
    *,
    persona: Persona,
    session_id: str,
    candidate_name: str | None,
    instructions: str | None,
    resume: SessionSnapshot | None = None,
) -> LLMContext:
    """The system prompt for the persona, plus the session contract's extra instructions; or the saved context."""
    if resume is not None:
        return LLMContext(messages=list(resume.messages))  # type: ignore[arg-type]
    builder = PromptBuilder(config)
    details = SessionDetails(
        candidate_name=candidate_name,
        session_id=session_id,
        started_at_iso=datetime.now(UTC).isoformat(timespec="seconds"),
        resume_note=None,
    )
    prompt = builder.coach_prompt(details) if persona == "coach" else builder.interviewer_prompt(details)
    context = LLMContext(messages=[{"role": "system", "content": prompt.text}])
    if instructions:
        context.add_message({"role": "system", "content": f"Session instructions: {instructions}"})
    return context


def resumed_state(resume: SessionSnapshot | None, config: InterviewConfig, now: float) -> InterviewState | None:
    """The saved interview state with its clocks moved past the time away (they were paused)."""
    if resume is None:
        return None
    try:
        state = InterviewState.restore(resume.state, config)
    except StateError as exc:
        raise SnapshotError(f"snapshot.json: {exc}") from exc
    return state.shifted(now - resume.state_clock_s)


def build_recorder(sample_rate: int) -> MicRecorder:
    """Stereo recorder that hands over audio every few seconds so nothing piles up in memory."""
    bytes_per_second = sample_rate * 2 * 2  # 16-bit, two channels
    return MicRecorder(sample_rate=sample_rate, num_channels=2, buffer_size=bytes_per_second * RECORDING_CHUNK_SECONDS)


def build_resumed_answer(turn_taking: TurnTaking, context: LLMContext, events: EventSink) -> ResumedAnswer | None:
    if not turn_taking.allow_interruptions or not turn_taking.resume_window_secs:
        return None  # the reply cannot be stopped, so the answer cannot go on as one
    return ResumedAnswer(context=context, window_secs=turn_taking.resume_window_secs, events=events)


def build_filler(settings: Settings, events: EventSink, latency: LatencyInstrumentation) -> FillerSpeech | None:
    """One short Piper phrase when the reply is late (`FILLER_AFTER_MS`; 0 = off).

    Rendered once per process and voice (`processors.filler_speech.RENDERS`), not per session.
    """
    if not settings.filler_after_ms:
        return None
    from processors.filler_speech import RENDERS
    from services.local_models import LOCAL_MODELS
    from services.local_tts import piper_options, synthesize_pcm

    options = piper_options(settings)

    def synthesize(text: str, sample_rate: int) -> bytes:
        return RENDERS.get(
            ("piper", options, text, sample_rate),
            lambda: synthesize_pcm(LOCAL_MODELS.piper(options), text, sample_rate),
        )

    def on_filler(reason: str, waited_ms: float) -> None:
        events.event("filler", reason=reason, waited_ms=waited_ms)
        latency.tracker.incident("filler", reason=reason, waited_ms=waited_ms)

    return FillerSpeech(synthesize, after_secs=settings.filler_after_ms / 1000, on_filler=on_filler)
