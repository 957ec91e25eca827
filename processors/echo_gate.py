"""EchoGate: keep the bot from hearing itself, while still letting the candidate barge in.

What Pipecat 1.14 lacks: it has no echo suppression for full-duplex paths where the
bot's voice comes back into the microphone (speakerphones, laptop speakers, phone
lines with line echo; browsers only help when the client enables WebRTC AEC). The
only built-in tool is ``LLMUserAggregatorParams(user_mute_strategies=[...])``, which
drops *all* user input while the bot speaks, so the candidate can no longer
interrupt. Audio filters (``audio_in_filter``) do noise reduction, not echo.

This gate sits right after ``transport.input()`` and rewrites inbound
``InputAudioRawFrame``s by bot state:

* **audible** (between ``BotStartedSpeakingFrame`` and ``BotStoppedSpeakingFrame``,
  which reach us travelling *upstream* from the output transport; or between
  :meth:`EchoGate.playback_started` / :meth:`EchoGate.playback_finished` when an
  external playback source such as Twilio marks reports them; audible while either
  says so: the server has started sending, or the listener still hears it):
  audio is replaced by silence of the same length, except **barge-in**: once
  frames louder than the barge-in threshold (below) add up to ``barge_in_min_secs``,
  the run and the following loud frames pass, so the VAD downstream can interrupt
  the bot. Quiet gaps up to ``gap_tolerance_secs`` do not break the run (they add
  nothing to it): syllables are ~100-200 ms with dips between them, so strictly
  consecutive loud frames would almost never reach 200 ms of real speech. A loud
  click shorter than ``barge_in_min_secs`` stays silenced.
  **Lookback**: the frames of a run still undecided are *held* (at most
  ``barge_in_min_secs`` + ``MAX_HOLD_EXTRA_SECS`` of audio), then pushed in order:
  as they were when the run becomes a barge-in, so the VAD and the recogniser get
  the barge-in from its first syllable; as silence when it breaks up, the bot goes
  quiet or the stream ends. Only undecided loud runs wait; everything else is pushed
  at once.
  **Echo estimate** (``echo_tracking``, default on): the threshold is ``echo_margin`` x
  the echo predicted from the bot's own sent audio (:mod:`processors.echo_reference`:
  coupling x output level ``delay`` ago, learned only where the microphone follows the
  output), never below ``barge_in_min_rms``; so a headset's silent line lets soft speech
  through, a speakerphone raises the bar only while the bot's voice is loud, and the pauses
  between its words and sentences are open to the candidate. Without a reference (no
  :meth:`EchoGate.output_tap` in the pipeline) or with tracking off the threshold is the
  fixed ``barge_in_rms_threshold``.
* **tail** (``cooldown_secs`` after the bot stops, for room reverb and network
  echo delay): audio passes only above ``cooldown_rms_threshold``.
* **open** (after the tail): everything passes untouched. ``normal_rms_threshold``
  is only used to count quiet frames (``stats.quiet_frames``): zeroing quiet frames
  would chop the soft parts of real speech between words and change the noise
  floor STT/VAD adapt to, and buys nothing once the bot is silent.

Hangover: once audio passes because it is loud (a confirmed barge-in, or the tail
threshold), quieter frames keep passing for ``hangover_secs`` of audio, so the
dips between syllables of the candidate's speech are not chopped (a chopped dip
resets Silero's start count and delays the interruption).

Gated frames are copies carrying the original audio in
``frame.metadata["echo_gate_original_audio"]`` so the recorder
(:class:`processors.mic_recorder.MicRecorder`) keeps the real microphone.

Beside this file: the rule frame by frame (modes, loud runs, barge-in, hangover) in
:mod:`processors.echo_gate_rule`; the gated frames and the held lookback in
:mod:`processors.echo_gate_audio`; the echo estimate and the output tap in
:mod:`processors.echo_reference`.

Durations come from the audio itself (``len(audio) / (2 * channels * rate)``), the
tail from ``clock``. Per frame this costs one numpy RMS and no allocation unless
the frame is silenced (a few microseconds, see ``scripts/bench_echo_gate.py``).
Energy gating still cannot hear a candidate much softer than the echo of the bot's
voice at the same instant (it waits for their louder syllables or the bot's pauses);
``scripts/bench_barge_in.py`` measures it. A real echo canceller (subtracting the
reference waveform) would do better.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from loguru import logger
from pipecat.frames.frames import (
    BotStartedSpeakingFrame,
    BotStoppedSpeakingFrame,
    CancelFrame,
    EndFrame,
    Frame,
    InputAudioRawFrame,
)
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor

from interview.config import EchoGateSettings
from interview.events import EventSink
from processors.echo_gate_audio import HeldFrames, audio_seconds, silenced_copy
from processors.echo_gate_rule import (
    DEFAULT_GAP_TOLERANCE_SECS,
    DEFAULT_HANGOVER_SECS,
    DURATION_EPS,
    EchoGateStats,
    GateMode,
    GateRule,
)
from processors.echo_reference import EchoCanceller, EchoEstimate, EchoOutputTap, OutputEnvelope, pcm16_rms

MAX_HOLD_EXTRA_SECS = 0.3  # lookback beyond barge_in_min_secs (the quiet gaps inside a run)


class EchoGate(FrameProcessor):
    """Replaces inbound audio by silence while the bot is audible, except real barge-in."""

    def __init__(
        self,
        settings: EchoGateSettings,
        *,
        events: EventSink | None = None,
        clock: Callable[[], float] = time.monotonic,
        hangover_secs: float = DEFAULT_HANGOVER_SECS,
        gap_tolerance_secs: float = DEFAULT_GAP_TOLERANCE_SECS,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._settings = settings
        self._events = events
        self._clock = clock
        self._stats = EchoGateStats()
        self._rule = GateRule(settings, self._stats, hangover_secs=hangover_secs, gap_tolerance_secs=gap_tolerance_secs)
        self._frames_audible = False  # from Bot{Started,Stopped}SpeakingFrame
        self._external: bool = False  # an external playback source reported at least once
        self._external_audible = False
        self._stopped_at: float | None = None  # clock() when the bot last became inaudible
        self._held = HeldFrames()  # a loud run not decided yet (lookback)
        self.envelope = OutputEnvelope(clock)  # the bot's sent audio (fed by output_tap())
        self.echo = EchoEstimate(self.envelope)
        self.canceller = EchoCanceller()  # fed by output_tap() too
        self._residual: float | None = None  # the current frame's RMS after the echo canceller
        self._summarized = False

    # --- public API ---------------------------------------------------------------------

    @property
    def stats(self) -> EchoGateStats:
        return self._stats

    @property
    def bot_audible(self) -> bool:
        """Whether the bot may be audible: the server is sending its audio, or the listener still plays it.

        Both, not the playback reports alone: they come back only after the audio before
        them has played (Twilio marks follow the first TTS frame, often a whole sentence),
        so the start of an utterance would be heard ungated.
        """
        return self._frames_audible or self._external_audible

    @property
    def mode(self) -> GateMode:
        """``"audible"``, ``"tail"`` or ``"open"`` right now."""
        if self.bot_audible:
            return "audible"
        if self._stopped_at is not None:
            if self._clock() - self._stopped_at < self._settings.cooldown_secs:
                return "tail"
            self._stopped_at = None  # tail over: skip the clock from now on
        return "open"

    def playback_started(self) -> None:
        """The listener started hearing the bot (e.g. Twilio): audible until playback_finished, whatever the server does."""
        self._set_audible(external=True)

    def playback_finished(self) -> None:
        """The listener stopped hearing the bot (e.g. the last Twilio mark came back)."""
        self._set_audible(external=False)

    def output_tap(self) -> EchoOutputTap:
        """The processor to place right after ``transport.output()``: the reference for the echo estimate."""
        return EchoOutputTap(self.envelope, self.canceller)

    @property
    def barge_in_threshold(self) -> float:
        """Frame RMS that counts as the candidate while the bot is audible, now (above the echo predicted now)."""
        if not self._settings.echo_tracking or not self.echo.has_reference:
            return self._settings.barge_in_rms_threshold
        return max(self._settings.barge_in_min_rms, self._settings.echo_margin * self.echo.predicted(self._clock()))

    def gate_audio(self, frame: InputAudioRawFrame) -> list[InputAudioRawFrame]:
        """The frames to push for ``frame``: itself, a silenced copy, none yet (held), or held ones too."""
        if not self._settings.enabled or not frame.audio:
            return [*self._release(original=False), frame]
        seconds = audio_seconds(frame)
        self._stats.frames += 1
        out = [] if self.mode == "audible" else self._release(original=False)
        rms = pcm16_rms(frame.audio)
        self._residual = self._cancel_echo(frame)
        loud = self._is_loud(rms)
        self._rule.track_loud_run(loud, seconds)
        mode = self.mode
        if mode == "audible" and self._settings.echo_tracking:
            self.echo.heard(self._clock(), rms, self._residual)
        decision = self._rule.decide(mode, loud=loud, rms=rms, seconds=seconds, held=len(self._held))
        if decision == "hold":
            self._held.add(frame, seconds)
            while self._held.seconds > self._max_hold_secs + DURATION_EPS:  # bounded lookback
                out += self._release(original=False, count=1)
            return out
        if decision == "barge_in":
            self._report_barge_in(rms)
        if decision in ("pass", "barge_in"):
            return [*out, *self._release(original=True), frame]
        self._count_silenced(seconds)
        return [*out, *self._release(original=False), silenced_copy(frame)]

    def _release(self, *, original: bool, count: int | None = None) -> list[InputAudioRawFrame]:
        """Let held frames go: as they were (a confirmed barge-in) or as silence."""
        frames = self._held.take(count)
        if original:
            return frames
        for f in frames:
            self._count_silenced(audio_seconds(f))
        return [silenced_copy(f) for f in frames]

    def _count_silenced(self, seconds: float) -> None:
        self._stats.suppressed_frames += 1
        self._stats.suppressed_seconds += seconds

    @property
    def _max_hold_secs(self) -> float:
        return self._settings.barge_in_min_secs + MAX_HOLD_EXTRA_SECS

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if isinstance(frame, InputAudioRawFrame) and direction == FrameDirection.DOWNSTREAM:
            for out in self.gate_audio(frame):
                await self.push_frame(out, direction)
            return
        if isinstance(frame, BotStartedSpeakingFrame):
            self._set_frames_audible(True)
        elif isinstance(frame, BotStoppedSpeakingFrame):
            self._set_frames_audible(False)
        elif isinstance(frame, (EndFrame, CancelFrame)):
            for out in self._release(original=False):
                await self.push_frame(out, FrameDirection.DOWNSTREAM)
            self._report_summary()
        await self.push_frame(frame, direction)

    # --- bot state ------------------------------------------------------------------------

    def _set_frames_audible(self, audible: bool) -> None:
        was = self.bot_audible
        self._frames_audible = audible
        self._after_state_change(was)

    def _set_audible(self, *, external: bool) -> None:
        was = self.bot_audible
        self._external = True
        self._external_audible = external
        self._after_state_change(was)

    def _after_state_change(self, was_audible: bool) -> None:
        """Start the tail when the bot goes quiet; forget tail hangover when it speaks again."""
        audible = self.bot_audible
        if was_audible and not audible:
            self._stopped_at = self._clock()
        elif audible and not was_audible:
            self._rule.bot_became_audible()

    # --- loudness against the echo ------------------------------------------------------------

    def _cancel_echo(self, frame: InputAudioRawFrame) -> float | None:
        """The frame's RMS once the bot's echo is cancelled (None without a reference or for stereo)."""
        if not self._settings.echo_tracking or not self.echo.has_reference or frame.num_channels != 1:
            return None
        residual = self.canceller.residual(frame.audio, frame.sample_rate)
        return None if residual is None else pcm16_rms(residual)

    def _is_loud(self, rms: float) -> bool:
        """Louder than the echo predicted now, before or (when the canceller has converged) after cancelling it."""
        if rms > self.barge_in_threshold:
            return True
        if self._residual is None:
            return False
        floor = self._settings.barge_in_min_rms
        return self._residual > max(floor, self.echo.residual_threshold(self._clock()))

    # --- reporting --------------------------------------------------------------------------

    def _report_barge_in(self, rms: float) -> None:
        self._emit(
            kind="barge_in",
            number=self._stats.barge_ins,
            rms=round(rms, 4),
            run_secs=round(self._rule.loud_run_secs, 3),
            lookback_secs=round(self._held.seconds, 3),
            threshold=round(self.barge_in_threshold, 4),
            echo_coupling=round(self.echo.coupling, 3),
            echo_delay_secs=self.echo.delay,
            echo_correlation=self.echo.correlation,
            canceller_leak=round(self.echo.leak, 3),
            residual_rms=None if self._residual is None else round(self._residual, 4),
            source="playback" if self._external else "bot_frames",
        )

    def _report_summary(self) -> None:
        if self._summarized:
            return
        self._summarized = True
        summary = asdict(self._stats)
        summary["suppressed_seconds"] = round(summary["suppressed_seconds"], 3)
        logger.debug(f"{self}: {summary}")
        self._emit(kind="summary", enabled=self._settings.enabled, **summary)

    def _emit(self, **data: Any) -> None:
        """Report one event; a failing sink must never break the audio path."""
        if self._events is None:
            return
        try:
            self._events.event("echo_gate", **data)
        except Exception as exc:
            logger.warning(f"{self}: could not record echo_gate event: {exc}")
