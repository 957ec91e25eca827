"""The interview turn-stop strategy: a Pipecat user-turn stop strategy that waits as long as the answer needs.

What Pipecat 1.14 lacks: its stop strategies decide from one signal each — a silence timer
(``SpeechTimeoutUserTurnStopStrategy``), an audio model (``TurnAnalyzerUserTurnStopStrategy``
with Smart Turn, which calls most thinking pauses "done" on synthetic voices), or an LLM
(``LLMTurnCompletionUserTurnStopStrategy``, a model round trip per pause). None weighs the
words said against the question asked, none learns how this candidate pauses, and none
keeps a thinking candidate talking with a listening cue.

Here, at every pause (VAD stop) the strategy scores Smart Turn on the answer's audio, waits
for that segment's transcript (Whisper transcribes at VAD stop, in parallel), has the
end-of-turn language model judge the words against the question (``end_of_turn_model``, off
the event loop), and asks ``interview.turn_policy.decide`` how much silence to allow after the
last word. The turn
ends when that silence has passed with no voice heard (``SileroVADWithActivity``: no
waiting out the VAD's ``start_secs`` on every turn); speech resumes -> the pause is
remembered as this candidate's habit.

Silence is counted in audio, not on the wall clock: pauses and waits are measured in
seconds of input audio this strategy has seen, and the turn ends on the audio frame that
completes the wait. On a loaded machine the frames (and the VAD's verdicts on them) arrive
late and in bursts while timers fire on time, so a wall-clock wait ended turns over
words already spoken but not yet analysed, and the same recording got different turn
decisions run to run. When input audio stops coming (a muted track) for over
:data:`AUDIO_STALL_SECS`, that time counts as silence and a wall-clock timer ends the wait.
Every decision goes to ``events.jsonl`` (``turn_decision``), and the ceiling
``max_wait_secs`` always ends the turn.

Start early, speak late: when the answer reads done (or unsure) the reply is prepared at
once through Pipecat's own speculation path (``trigger_user_turn_inference_triggered``
with a ``UserTurnSpeculation``: the LLM answers a provisional context and the LLM
service's speculation gate holds the reply); the turn end confirms it
(``confirms_speculation``) or, if the candidate goes on, it is withdrawn without a trace.
A resumption after the turn ended arrives as an ``AnswerResumedFrame``
(``processors.resumed_answer``): the answer's first part counts again and the pause is
learned as a false end.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from pipecat.audio.turn.base_turn_analyzer import BaseTurnAnalyzer
from pipecat.frames.frames import (
    EagerEndOfTurnCancelFrame,
    Frame,
    InputAudioRawFrame,
    LLMRunFrame,
    STTMetadataFrame,
    TranscriptionFrame,
    VADUserStartedSpeakingFrame,
    VADUserStoppedSpeakingFrame,
)
from pipecat.metrics.metrics import TurnMetricsData
from pipecat.processors.frame_processor import FrameProcessorSetup
from pipecat.turns.types import ProcessFrameResult, UserTurnSpeculation
from pipecat.turns.user_stop.base_user_turn_stop_strategy import BaseUserTurnStopStrategy

from frames.interview_frames import AnswerResumedFrame, SegmentWithoutWordsFrame
from interview.config import InterviewTurnStop
from interview.events import EventSink
from interview.turn_policy import PauseHistory, PauseInputs, TurnDecision, decide
from turn_taking.backchannel import BackchannelCue
from turn_taking.end_of_turn_model import EndOfTurnScorer

DEFAULT_STT_WAIT_SECS = 1.5  # a transcript later than this after VAD stop: decide on the text so far
# ...but end the turn without it only this long after VAD stop: the reply needs the last words,
# and a transcript that lands after the turn ended starts a new turn that cuts the reply off.
STT_GIVE_UP_SECS = 3.0
RECHECK_SECS = 0.04  # voice heard just before the turn would end: look again this soon
AUDIO_STALL_SECS = 0.5  # no input audio for this long: the wait is finished on the wall clock
VoiceHeardWithin = Callable[[float], bool]


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
        voice_heard_within: VoiceHeardWithin | None = None,
        end_of_turn: EndOfTurnScorer | None = None,
    ) -> None:
        """``end_of_turn``: the process's end-of-turn model (None, or ``end_of_turn_model: false``: rules only)."""
        super().__init__()
        self._end_of_turn = end_of_turn if settings.end_of_turn_model else None
        self._voice_heard_within = voice_heard_within
        self._settings = settings
        self._smart_turn = smart_turn
        self._context = context
        self._events = events
        self._backchannel = (
            BackchannelCue(settings.backchannel, self.push_frame, events) if settings.backchannel.enabled else None
        )
        self._stt_wait = DEFAULT_STT_WAIT_SECS
        self._vad_start_secs = 0.2  # VAD reports speech this long after it begins (from its frames)
        self._speaking = False
        self._text = ""
        self._audio_clock = 0.0  # seconds of candidate audio seen: the clock pauses and waits are timed on
        self._last_audio_at = float("-inf")  # monotonic time of the last input audio frame
        self._speech_end: float | None = None  # audio time of the last word of the answer so far
        self._turn_end_due: float | None = None  # audio time at which the turn ends, if no voice is heard by then
        self._stopped_at = 0.0  # monotonic time of the last VAD stop (the transcript's deadline is wall time)
        self._pending_segments = 0  # VAD segments whose transcript has not arrived yet
        self._probability: float | None = None
        self._decision: TurnDecision | None = None
        self._timer: asyncio.Task | None = None
        self._history = PauseHistory(settings.recover_after_answers)
        self._decisions = 0  # a decision whose inputs changed while the model judged them is dropped
        self._speculation: str | None = None  # the answer text a held reply was prepared for
        self._confirmed_speculation = False  # this turn ended by releasing a prepared reply
        self._resumed_prefix = ""  # the answer's first part, when it resumed after the turn ended
        self._undecided_pause: float | None = None  # a pause the candidate went on after before its words were in

    # -- Pipecat strategy hooks -------------------------------------------------------------

    async def setup(self, setup: FrameProcessorSetup) -> None:  # type: ignore[override]  # as Pipecat narrows BaseObject.setup
        await super().setup(setup)
        if self._smart_turn is not None:
            self._smart_turn.set_sample_rate(setup.audio_in_sample_rate)

    async def cleanup(self) -> None:
        await super().cleanup()
        await self._cancel_timer()
        if self._smart_turn is not None:
            await self._smart_turn.cleanup()

    async def handle_user_turn_started(self) -> None:
        self._confirmed_speculation = False
        await self._reset_answer()
        if self._end_of_turn is not None:  # the question's prompt is evaluated while the candidate speaks
            self._end_of_turn.prime(self._context().question)
        if self._backchannel is not None:
            self._backchannel.new_answer()

    async def handle_user_turn_stopped(self) -> None:
        self._history.answer_ended()
        await self._reset_answer()
        self._resumed_prefix = ""
        if self._smart_turn is not None:
            self._smart_turn.clear()

    async def process_frame(self, frame: Frame) -> ProcessFrameResult:
        await super().process_frame(frame)
        if isinstance(frame, InputAudioRawFrame):
            await self._on_audio(frame)
        elif isinstance(frame, VADUserStartedSpeakingFrame):
            await self._on_speech_started(frame)
        elif isinstance(frame, VADUserStoppedSpeakingFrame):
            await self._on_speech_stopped(frame)
        elif isinstance(frame, (TranscriptionFrame, SegmentWithoutWordsFrame)):
            await self._on_transcript(frame)
        elif isinstance(frame, STTMetadataFrame):
            self._stt_wait = max(DEFAULT_STT_WAIT_SECS, frame.ttfs_p99_latency)
        elif isinstance(frame, EagerEndOfTurnCancelFrame):
            await self._on_speculation_withdrawn()
        elif isinstance(frame, AnswerResumedFrame):
            self._on_answer_resumed(frame)
        return ProcessFrameResult.CONTINUE

    @property
    def answer_text(self) -> str:
        """The whole answer so far, including a part said before a false end."""
        return f"{self._resumed_prefix} {self._text}".strip()

    # -- signals ----------------------------------------------------------------------------

    async def _on_audio(self, frame: InputAudioRawFrame) -> None:
        now, frame_secs = time.monotonic(), len(frame.audio) / (2 * frame.num_channels * frame.sample_rate)
        stalled = now - self._last_audio_at > AUDIO_STALL_SECS  # audio stopped coming: that time was silence too
        self._audio_clock += now - self._last_audio_at if stalled and self._audio_clock else frame_secs
        self._last_audio_at = now
        if self._smart_turn is not None:
            self._smart_turn.append_audio(frame.audio, self._speaking)
        if self._turn_end_due is not None and self._audio_clock >= self._turn_end_due:
            await self._end_turn()

    async def _on_speech_started(self, frame: VADUserStartedSpeakingFrame) -> None:
        self._speaking = True
        self._decisions += 1
        self._vad_start_secs = frame.start_secs
        if self._smart_turn is not None:
            self._smart_turn.update_vad_start_secs(frame.start_secs)
        if self._speech_end is not None and (self._text or self._pending_segments > 0):
            pause = self._audio_clock - frame.start_secs - self._speech_end
            self._history.resumed(pause)
            if self._decision is not None:
                self._history.went_on_after(self._decision.verdict, pause, self._settings)
            elif self._pending_segments > 0:
                self._undecided_pause = pause  # judged when its transcript lands (_learn_from_undecided_pause)
            self._event(
                "turn_pause_resumed",
                pause_secs=round(pause, 3),
                after=self._decision.verdict if self._decision else None,
            )
        self._turn_end_due = None
        await self._cancel_timer()
        await self._withdraw_speculation()
        self._decision = None

    def _on_answer_resumed(self, frame: AnswerResumedFrame) -> None:
        self._resumed_prefix = frame.previous_answer
        self._history.resumed(frame.pause_secs)
        self._history.near_miss(frame.pause_secs)
        self._event("turn_false_end", pause_secs=frame.pause_secs, interviewer_spoke_secs=frame.interviewer_spoke_secs)

    async def _on_speech_stopped(self, frame: VADUserStoppedSpeakingFrame) -> None:
        self._speaking = False
        self._stopped_at = time.monotonic()
        self._speech_end = self._audio_clock - frame.stop_secs
        self._pending_segments += 1
        self._probability = await self._smart_turn_probability()
        # No transcript in time (nothing recognisable, or a slow recogniser): decide on what is
        # known, never "done" (the last words are not in), and again when the transcript lands.
        self._arm(self._stt_wait, self._decide_without_last_words)

    async def _on_transcript(self, frame: TranscriptionFrame | SegmentWithoutWordsFrame) -> None:
        if isinstance(frame, TranscriptionFrame) and frame.text.strip():
            self._text = f"{self._text} {frame.text.strip()}".strip()
        self._pending_segments = max(0, self._pending_segments - 1)
        if self._undecided_pause is not None:
            await self._learn_from_undecided_pause()
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

    async def _judge_pause(self, text: str) -> PauseInputs:
        """Everything a decision on ``text`` weighs (the model's score is computed off the event loop)."""
        context = self._context()
        log_p = await self._judge_words(context.question, text)
        return PauseInputs(
            text=text,
            smart_turn_probability=self._probability,
            question=context.question,
            phase_id=context.phase_id,
            resumed_pauses=tuple(self._history.resumed_pauses),
            near_miss_pauses=self._history.near_miss_pauses,
            end_of_turn_log_p=log_p,
        )

    async def _learn_from_undecided_pause(self) -> None:
        """Judge a pause the candidate went on after before its transcript landed, for the habit only.

        Whether a decision came before the candidate went on depends on how fast the recogniser
        was, not on the candidate; judging it late makes what is learned (a near miss after
        finished-sounding words) the same on a fast machine and a loaded one.
        """
        pause, self._undecided_pause = self._undecided_pause, None
        if pause is None or not self.answer_text:
            return
        inputs = await self._judge_pause(self.answer_text)
        verdict = decide(self._settings, inputs).verdict
        self._history.went_on_after(verdict, pause, self._settings)
        self._event("turn_pause_judged_late", pause_secs=round(pause, 3), verdict=verdict, text_tail=inputs.text[-60:])

    async def _decide_and_wait(self, last_words_missing: bool = False) -> None:
        if not self._text or self._speech_end is None:
            return  # nothing said yet: Pipecat's user_turn_stop_timeout is the backstop
        self._decisions += 1
        this_decision = self._decisions
        inputs = await self._judge_pause(self.answer_text)
        if this_decision != self._decisions or self._speaking or self._speech_end is None:
            return  # speech resumed, or newer words arrived, while the model judged these
        self._decision = decide(self._settings, inputs)
        if last_words_missing and self._decision.verdict == "done":
            reasons = [*self._decision.reasons, "the transcript of the last words is not in yet"]
            self._decision = TurnDecision("unsure", self._settings.unsure_wait_secs, reasons, self._decision.words)
        silence = self._audio_clock - self._speech_end
        self._event("turn_decision", silence_so_far_secs=round(silence, 3), **self._decision.as_event(inputs))
        if self._decision.verdict == "unfinished":
            await self._withdraw_speculation()
        elif self._settings.speculate:
            await self._speculate()
        if self._backchannel is not None:  # only when the wait leaves room for a cue (research patience)
            self._backchannel.schedule(
                time.monotonic() - silence, self._decision.wait_secs, still_quiet=lambda: not self._speaking
            )
        # Without a voice-activity query, speech that resumes just before the wait is up is only
        # reported vad_start_secs later: wait that long too, so the wait is real silence.
        late_report = 0.0 if self._voice_heard_within is not None else self._vad_start_secs
        self._end_turn_at(self._speech_end + self._decision.wait_secs + late_report)

    async def _judge_words(self, question: str, text: str) -> float | None:
        """The end-of-turn model's log P that the answer ends here (None: no model, or it failed)."""
        if self._end_of_turn is None:
            return None
        try:
            score = await self._end_of_turn.score(question, text)
        except Exception as exc:  # a broken model must not stop the interview: the rules decide alone
            self._event("turn_model_error", error=f"{type(exc).__name__}: {exc}")
            return None
        return score.log_p

    def _end_turn_at(self, audio_time: float) -> None:
        """End the turn when the audio clock reaches ``audio_time`` (``_on_audio``), or on the wall clock if audio stops."""
        self._turn_end_due = audio_time
        self._arm(max(0.0, audio_time - self._audio_clock), self._end_turn_if_audio_stalled)

    async def _end_turn_if_audio_stalled(self) -> None:
        if self._turn_end_due is None:
            return
        quiet_for = time.monotonic() - self._last_audio_at
        if quiet_for < AUDIO_STALL_SECS:  # audio is still coming: its clock ends the wait
            self._arm(AUDIO_STALL_SECS - quiet_for, self._end_turn_if_audio_stalled)
            return
        await self._end_turn()

    async def _end_turn(self) -> None:
        self._turn_end_due = None
        if self._speaking:
            return
        if self._voice_heard_within is not None and self._voice_heard_within(self._vad_start_secs):
            self._end_turn_at(self._audio_clock + RECHECK_SECS)  # a voice just now: speech may be starting
            return
        transcript_due = self._stopped_at + max(STT_GIVE_UP_SECS, self._stt_wait) - time.monotonic()
        if self._pending_segments > 0 and transcript_due > 0:
            self._arm(transcript_due, self._end_turn)  # its arrival decides again, with the last words
            return
        if self._backchannel is not None:
            self._backchannel.cancel()
        if self._speculation is not None and self._speculation == self._text:
            self._speculation = None
            self._confirmed_speculation = True
            await self.trigger_user_turn_finalized(confirms_speculation=True)
            return
        await self._withdraw_speculation()
        await self.trigger_user_turn_stopped()

    # -- start early, speak late --------------------------------------------------------------

    async def _speculate(self) -> None:
        """Have the reply to the answer so far prepared and held until the turn ends."""
        if self._speculation == self._text:
            return
        await self._withdraw_speculation()
        self._speculation = self._text
        self._event("turn_speculation", text_tail=self._text[-60:])
        await self.trigger_user_turn_inference_triggered(speculation=UserTurnSpeculation(text=self._text))

    async def _on_speculation_withdrawn(self) -> None:
        """The prepared reply was withdrawn elsewhere: the LLM service does that when it wants a tool call.

        If this turn already ended by confirming that reply, Pipecat runs no inference for it
        (``confirms_speculation``), so nothing would answer the candidate: run one now, on the
        context the turn end wrote.
        """
        self._speculation = None
        if self._confirmed_speculation:
            self._confirmed_speculation = False
            self._event("turn_speculation_rerun", reason="the prepared reply was withdrawn after the turn ended")
            await self.push_frame(LLMRunFrame())

    async def _withdraw_speculation(self) -> None:
        if self._speculation is not None:
            self._speculation = None
            await self.trigger_user_turn_speculation_cancelled()

    # -- plumbing ---------------------------------------------------------------------------

    def _arm(self, delay: float, action: Callable[[], Awaitable[None]]) -> None:
        async def after_delay() -> None:
            await asyncio.sleep(delay)
            self._timer = None
            await action()

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
        await self._withdraw_speculation()  # a turn ended some other way (backstop, session end)
        self._text = ""
        self._speech_end = None
        self._turn_end_due = None
        self._undecided_pause = None
        self._pending_segments = 0
        self._decision = None

    def _event(self, kind: str, **data: object) -> None:
        if self._events is not None:
            self._events.event(kind, **data)
