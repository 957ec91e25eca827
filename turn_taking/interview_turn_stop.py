"""The interview turn-stop strategy: a Pipecat user-turn stop strategy that waits as long as the answer needs.

What Pipecat 1.14 lacks: its stop strategies decide from one signal each — a silence timer
(``SpeechTimeoutUserTurnStopStrategy``), an audio model (``TurnAnalyzerUserTurnStopStrategy``
with Smart Turn, which calls most thinking pauses "done" on synthetic voices), or an LLM
(``LLMTurnCompletionUserTurnStopStrategy``, a model round trip per pause). None weighs the
words said against the question asked, none learns how this candidate pauses, and none
keeps a thinking candidate talking with a listening cue.

Here, at every pause (VAD stop) the strategy scores Smart Turn on the answer's audio, waits
for that segment's transcript (Whisper transcribes at VAD stop, in parallel), and asks
``interview.turn_policy.decide`` how much silence to allow after the last word. The turn
ends when that silence has passed with no new speech; speech resumes -> the pause is
remembered as this candidate's habit. Every decision goes to ``events.jsonl``
(``turn_decision``), and the ceiling ``max_wait_secs`` always ends the turn.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from pipecat.audio.turn.base_turn_analyzer import BaseTurnAnalyzer
from pipecat.frames.frames import (
    Frame,
    InputAudioRawFrame,
    STTMetadataFrame,
    TranscriptionFrame,
    VADUserStartedSpeakingFrame,
    VADUserStoppedSpeakingFrame,
)
from pipecat.metrics.metrics import TurnMetricsData
from pipecat.processors.frame_processor import FrameProcessorSetup
from pipecat.turns.types import ProcessFrameResult
from pipecat.turns.user_stop.base_user_turn_stop_strategy import BaseUserTurnStopStrategy

from interview.config import InterviewTurnStop
from interview.turn_policy import PauseInputs, TurnDecision, decide
from processors.events import EventSink
from turn_taking.backchannel import BackchannelCue

DEFAULT_STT_WAIT_SECS = 1.5  # a transcript later than this after VAD stop: decide on the text so far


@dataclass(frozen=True)
class QuestionContext:
    question: str = ""
    phase_id: str = ""


class InterviewTurnStopStrategy(BaseUserTurnStopStrategy):
    """Ends the candidate's turn after the silence ``turn_policy.decide`` allows at each pause."""

    def __init__(
        self,
        settings: InterviewTurnStop,
        *,
        smart_turn: BaseTurnAnalyzer | None = None,
        context: Callable[[], QuestionContext] = QuestionContext,
        events: EventSink | None = None,
    ) -> None:
        super().__init__()
        self._settings = settings
        self._smart_turn = smart_turn
        self._context = context
        self._events = events
        self._backchannel = BackchannelCue(settings.backchannel, self.push_frame, events) if settings.backchannel.enabled else None
        self._stt_wait = DEFAULT_STT_WAIT_SECS
        self._vad_start_secs = 0.2  # VAD reports speech this long after it begins (from its frames)
        self._speaking = False
        self._text = ""
        self._speech_end: float | None = None  # monotonic time of the last word of the answer so far
        self._pending_segments = 0  # VAD segments whose transcript has not arrived yet
        self._probability: float | None = None
        self._decision: TurnDecision | None = None
        self._timer: asyncio.Task | None = None
        self._resumed_pauses: list[float] = []
        self._false_end_pauses: list[float] = []

    # -- Pipecat strategy hooks -------------------------------------------------------------

    async def setup(self, setup: FrameProcessorSetup) -> None:
        await super().setup(setup)
        if self._smart_turn is not None:
            self._smart_turn.set_sample_rate(setup.audio_in_sample_rate)

    async def cleanup(self) -> None:
        await super().cleanup()
        await self._cancel_timer()
        if self._smart_turn is not None:
            await self._smart_turn.cleanup()

    async def handle_user_turn_started(self) -> None:
        await self._reset_answer()
        if self._backchannel is not None:
            self._backchannel.new_answer()

    async def handle_user_turn_stopped(self) -> None:
        await self._reset_answer()
        if self._smart_turn is not None:
            self._smart_turn.clear()

    async def process_frame(self, frame: Frame) -> ProcessFrameResult:
        await super().process_frame(frame)
        if isinstance(frame, InputAudioRawFrame) and self._smart_turn is not None:
            self._smart_turn.append_audio(frame.audio, self._speaking)
        elif isinstance(frame, VADUserStartedSpeakingFrame):
            await self._on_speech_started(frame)
        elif isinstance(frame, VADUserStoppedSpeakingFrame):
            await self._on_speech_stopped(frame)
        elif isinstance(frame, TranscriptionFrame):
            await self._on_transcript(frame)
        elif isinstance(frame, STTMetadataFrame):
            self._stt_wait = max(DEFAULT_STT_WAIT_SECS, frame.ttfs_p99_latency)
        return ProcessFrameResult.CONTINUE

    # -- signals ----------------------------------------------------------------------------

    async def _on_speech_started(self, frame: VADUserStartedSpeakingFrame) -> None:
        self._speaking = True
        self._vad_start_secs = frame.start_secs
        if self._smart_turn is not None:
            self._smart_turn.update_vad_start_secs(frame.start_secs)
        if self._speech_end is not None and self._text:
            pause = time.monotonic() - frame.start_secs - self._speech_end
            self._resumed_pauses.append(round(pause, 3))
            if self._decision is not None and self._decision.verdict == "done":
                self._false_end_pauses.append(round(pause, 3))
            self._event("turn_pause_resumed", pause_secs=round(pause, 3), after=self._decision.verdict if self._decision else None)
        await self._cancel_timer()
        self._decision = None

    async def _on_speech_stopped(self, frame: VADUserStoppedSpeakingFrame) -> None:
        self._speaking = False
        self._speech_end = time.monotonic() - frame.stop_secs
        self._pending_segments += 1
        self._probability = await self._smart_turn_probability()
        # No transcript in time (nothing recognisable, or a slow recogniser): decide on what is
        # known, never "done" (the last words are not in), and again when the transcript lands.
        self._arm(self._stt_wait, self._decide_without_last_words)

    async def _on_transcript(self, frame: TranscriptionFrame) -> None:
        if frame.text.strip():
            self._text = f"{self._text} {frame.text.strip()}".strip()
        self._pending_segments = max(0, self._pending_segments - 1)
        if not self._speaking and self._pending_segments == 0:
            await self._cancel_timer()
            await self._decide_and_wait()

    async def _smart_turn_probability(self) -> float | None:
        if self._smart_turn is None:
            return None
        _, metrics = await self._smart_turn.analyze_end_of_turn()
        return round(metrics.probability, 3) if isinstance(metrics, TurnMetricsData) else None

    # -- the decision -----------------------------------------------------------------------

    async def _decide_without_last_words(self) -> None:
        await self._decide_and_wait(last_words_missing=self._pending_segments > 0)

    async def _decide_and_wait(self, last_words_missing: bool = False) -> None:
        if not self._text or self._speech_end is None:
            return  # nothing said yet: Pipecat's user_turn_stop_timeout is the backstop
        context = self._context()
        inputs = PauseInputs(
            text=self._text,
            smart_turn_probability=self._probability,
            question=context.question,
            phase_id=context.phase_id,
            resumed_pauses=tuple(self._resumed_pauses),
            false_end_pauses=tuple(self._false_end_pauses),
        )
        self._decision = decide(self._settings, inputs)
        if last_words_missing and self._decision.verdict == "done":
            reasons = [*self._decision.reasons, "the transcript of the last words is not in yet"]
            self._decision = TurnDecision("unsure", self._settings.unsure_wait_secs, reasons, self._decision.words)
        silence = time.monotonic() - self._speech_end
        self._event("turn_decision", silence_so_far_secs=round(silence, 3), **self._decision.as_event(inputs))
        if self._backchannel is not None and self._decision.verdict == "unfinished":
            self._backchannel.schedule(self._speech_end, self._decision.wait_secs, still_quiet=lambda: not self._speaking)
        # Speech that resumes just before the wait is up is reported vad_start_secs later: end the
        # turn only once that report could have come, so the wait is real silence after the last word.
        self._arm(max(0.0, self._decision.wait_secs + self._vad_start_secs - silence), self._end_turn)

    async def _end_turn(self) -> None:
        if self._speaking:
            return
        if self._backchannel is not None:
            self._backchannel.cancel()
        await self.trigger_user_turn_stopped()

    # -- plumbing ---------------------------------------------------------------------------

    def _arm(self, delay: float, action: Callable[[], object]) -> None:
        async def after_delay() -> None:
            await asyncio.sleep(delay)
            self._timer = None
            await action()  # type: ignore[misc]

        if self._timer is not None:
            self._timer.cancel()
        self._timer = self.task_manager.create_task(after_delay(), f"{self}::wait")

    async def _cancel_timer(self) -> None:
        if self._timer is not None:
            timer, self._timer = self._timer, None
            await self.task_manager.cancel_task(timer)
        if self._backchannel is not None:
            self._backchannel.cancel()

    async def _reset_answer(self) -> None:
        await self._cancel_timer()
        self._text = ""
        self._speech_end = None
        self._pending_segments = 0
        self._decision = None

    def _event(self, kind: str, **data: object) -> None:
        if self._events is not None:
            self._events.event(kind, **data)
