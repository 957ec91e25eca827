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
  **Echo tracking** (``echo_tracking``, default on): the threshold is
  ``echo_margin`` x the echo level heard on this line, never below
  ``barge_in_min_rms`` (``barge_in_rms_threshold`` is the starting level, and the
  threshold itself when tracking is off). The level follows frames that were not
  the candidate (silenced frames, and runs that broke up): it rises within a few
  frames, holds through the pauses between the bot's sentences, then fades, so a
  headset's silent line lets soft speech through and a speakerphone raises the bar.
  Until ``ECHO_LEARN_SECS`` of bot audio was heard no run becomes a barge-in.
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

Durations come from the audio itself (``len(audio) / (2 * channels * rate)``), the
tail from ``clock``. Per frame this costs one numpy RMS and no allocation unless
the frame is silenced (a few microseconds, see ``scripts/bench_echo_gate.py``).
Energy gating cannot tell an echo from the candidate as loud as it: with the
echo ~6 dB below the candidate's voice, barge-ins need the louder syllables
(``scripts/bench_barge_in.py`` measures it); comparing with the audio the bot sent
(a reference-based echo canceller) is what would do better.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
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
from processors.events import EventSink

ORIGINAL_AUDIO_KEY = "echo_gate_original_audio"
DEFAULT_HANGOVER_SECS = 0.3
DEFAULT_GAP_TOLERANCE_SECS = 0.1
# Float tolerance when summing frame durations (10 x 0.02 s must reach 0.2 s).
DURATION_EPS = 1e-6

AUDIBLE = "audible"
TAIL = "tail"
OPEN = "open"
PASS, SILENCE, HOLD = "pass", "silence", "hold"
MAX_HOLD_EXTRA_SECS = 0.3  # lookback beyond barge_in_min_secs (the quiet gaps inside a run)
ECHO_RISE_PER_SEC = 15.0  # echo level tracking: reaches a louder echo within ~70 ms ...
ECHO_FALL_PER_SEC = 0.7  # ... and forgets it at 70 % a second ...
ECHO_HOLD_SECS = 1.0  # ... after this long without it (pauses between sentences are shorter)
ECHO_PRESENT_FRACTION = 0.5  # a frame this close to the level counts as the echo still being there
ECHO_LEARN_SECS = 1.5  # with echo tracking, no barge-in before this much bot audio was heard: the line's echo is unknown

_PCM16 = np.dtype("<i2")
_FULL_SCALE = 32768.0


@dataclass
class EchoGateStats:
    """Counters for the session summary (and for tests)."""

    frames: int = 0  # inbound audio frames seen while enabled
    suppressed_frames: int = 0
    suppressed_seconds: float = 0.0
    barge_ins: int = 0  # barge-ins detected while the bot was audible
    barge_in_frames: int = 0  # frames passed during bot audio because of a barge-in
    tail_passed_frames: int = 0  # frames passed in the tail
    quiet_frames: int = 0  # open-mode frames below normal_rms_threshold (passed as-is)


def pcm16_rms(audio: bytes) -> float:
    """RMS of 16-bit little-endian PCM on full scale = 1.0 (all channels together)."""
    samples = np.frombuffer(audio, dtype=_PCM16, count=len(audio) // 2).astype(np.int64)
    if samples.size == 0:
        return 0.0
    # Exact integer energy: faster than a float32 BLAS dot on 160-320 samples.
    return (int(np.dot(samples, samples)) / samples.size) ** 0.5 / _FULL_SCALE


def audio_seconds(frame: InputAudioRawFrame) -> float:
    """Duration of a frame from its byte length (works at any rate / channel count)."""
    if frame.sample_rate <= 0 or frame.num_channels <= 0:
        return 0.0
    return len(frame.audio) / (2 * frame.num_channels * frame.sample_rate)


def _shallow_copy(frame: InputAudioRawFrame) -> InputAudioRawFrame:
    """Field-for-field copy (same class, id, pts, source): 3x faster than copy.copy."""
    fields = getattr(frame, "__dict__", None)
    if fields is None:  # a slotted subclass
        return copy.copy(frame)
    clone = object.__new__(type(frame))
    clone.__dict__.update(fields)
    return clone


def silenced_copy(frame: InputAudioRawFrame) -> InputAudioRawFrame:
    """Same frame, zeroed audio of the same length, original kept in metadata.

    A copy, not an in-place edit: observers and the input transport may still hold
    the original frame.
    """
    out = _shallow_copy(frame)
    out.audio = bytes(len(frame.audio))
    out.metadata = {**frame.metadata, ORIGINAL_AUDIO_KEY: frame.audio}
    return out


def with_original_audio(frame: InputAudioRawFrame) -> InputAudioRawFrame:
    """Copy of a gated frame with its original audio back (for recorders); others unchanged."""
    original = frame.metadata.get(ORIGINAL_AUDIO_KEY)
    if original is None:
        return frame
    out = _shallow_copy(frame)
    out.audio = original
    return out


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
        self._hangover_secs = hangover_secs
        self._gap_tolerance_secs = gap_tolerance_secs
        self._stats = EchoGateStats()
        self._frames_audible = False  # from Bot{Started,Stopped}SpeakingFrame
        self._external: bool = False  # an external playback source reported at least once
        self._external_audible = False
        self._stopped_at: float | None = None  # clock() when the bot last became inaudible
        self._loud_run_secs = 0.0  # audio above barge_in_rms_threshold in the current run
        self._gap_secs = 0.0  # quiet audio since the last loud frame
        self._barge_in_active = False
        self._hold_secs = 0.0  # hangover left
        self._held: list[InputAudioRawFrame] = []  # a loud run not decided yet (lookback)
        self._held_rms: list[float] = []
        self._held_secs = 0.0
        self._echo_level = settings.barge_in_rms_threshold / settings.echo_margin  # tracked echo RMS
        self._audible_secs = 0.0  # microphone audio heard while the bot was audible, this session
        self._echo_quiet_secs = 0.0  # since the echo was last heard
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
    def mode(self) -> str:
        """``"audible"``, ``"tail"`` or ``"open"`` right now."""
        if self.bot_audible:
            return AUDIBLE
        if self._stopped_at is not None:
            if self._clock() - self._stopped_at < self._settings.cooldown_secs:
                return TAIL
            self._stopped_at = None  # tail over: skip the clock from now on
        return OPEN

    def playback_started(self) -> None:
        """The listener started hearing the bot (e.g. Twilio): audible until playback_finished, whatever the server does."""
        self._set_audible(external=True)

    def playback_finished(self) -> None:
        """The listener stopped hearing the bot (e.g. the last Twilio mark came back)."""
        self._set_audible(external=False)

    @property
    def barge_in_threshold(self) -> float:
        """Frame RMS that counts as the candidate while the bot is audible (follows the echo it hears)."""
        if not self._settings.echo_tracking:
            return self._settings.barge_in_rms_threshold
        return max(self._settings.barge_in_min_rms, self._settings.echo_margin * self._echo_level)

    def gate_audio(self, frame: InputAudioRawFrame) -> list[InputAudioRawFrame]:
        """The frames to push for ``frame``: itself, a silenced copy, none yet (held), or held ones too."""
        if not self._settings.enabled or not frame.audio:
            return [*self._release(original=False), frame]
        seconds = audio_seconds(frame)
        self._stats.frames += 1
        out = [] if self.mode == AUDIBLE else self._release(original=False)
        rms = pcm16_rms(frame.audio)
        decision = self._decide(rms, seconds)
        if decision == HOLD:
            self._held_rms.append(rms)
            self._held.append(frame)
            self._held_secs += seconds
            while self._held_secs > self._max_hold_secs + DURATION_EPS:  # bounded lookback
                out += self._release(original=False, count=1)
            return out
        if decision == PASS:
            return [*out, *self._release(original=True), frame]
        self._count_silenced(seconds)
        return [*out, *self._release(original=False), silenced_copy(frame)]

    def _release(self, *, original: bool, count: int | None = None) -> list[InputAudioRawFrame]:
        """Let held frames go: as they were (a confirmed barge-in) or as silence."""
        if not self._held:
            return []
        n = len(self._held) if count is None else min(count, len(self._held))
        frames, self._held = self._held[:n], self._held[n:]
        levels, self._held_rms = self._held_rms[:n], self._held_rms[n:]
        for f, rms in zip(frames, levels):
            self._held_secs -= audio_seconds(f)
            if not original:
                self._count_silenced(audio_seconds(f))
                if self.mode == AUDIBLE:
                    self._track_echo(rms, audio_seconds(f))  # a run that did not last was the echo
        if not self._held:
            self._held_secs = 0.0
        return frames if original else [silenced_copy(f) for f in frames]

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
            self._hold_secs = 0.0

    # --- the rule ---------------------------------------------------------------------------

    def _decide(self, rms: float, seconds: float) -> str:
        """PASS, SILENCE or HOLD for one frame; updates the loud run, barge-in, hangover and echo level."""
        loud = rms > self.barge_in_threshold
        self._track_loud_run(loud, seconds)
        mode = self.mode
        if mode == AUDIBLE:
            return self._decide_while_audible(loud, rms, seconds)
        self._barge_in_active = False
        if mode == TAIL:
            return PASS if self._passes_in_tail(rms, seconds) else SILENCE
        self._hold_secs = 0.0
        if rms < self._settings.normal_rms_threshold:
            self._stats.quiet_frames += 1
        return PASS

    def _track_loud_run(self, loud: bool, seconds: float) -> None:
        """Sum loud audio; a quiet gap longer than the tolerance ends the run."""
        if loud:
            self._loud_run_secs += seconds
            self._gap_secs = 0.0
            return
        self._gap_secs += seconds
        if self._gap_secs > self._gap_tolerance_secs + DURATION_EPS:
            self._loud_run_secs = 0.0

    def _decide_while_audible(self, loud: bool, rms: float, seconds: float) -> str:
        self._audible_secs += seconds
        if self._barge_in_active:
            if loud:
                self._hold_secs = self._hangover_secs
            elif not self._use_hold(seconds):
                self._barge_in_active = False
                self._hold_secs = 0.0
                return SILENCE
            self._stats.barge_in_frames += 1
            return PASS
        if loud and self._loud_run_secs + DURATION_EPS >= self._settings.barge_in_min_secs and self._echo_learned:
            self._barge_in_active = True
            self._hold_secs = self._hangover_secs
            self._stats.barge_ins += 1
            self._stats.barge_in_frames += 1 + len(self._held)
            self._report_barge_in(rms)
            return PASS
        if self._loud_run_secs > DURATION_EPS:
            return HOLD  # a loud run in progress: candidate or echo, decided when it ends or lasts
        self._track_echo(rms, seconds)
        return SILENCE

    @property
    def _echo_learned(self) -> bool:
        return not self._settings.echo_tracking or self._audible_secs + DURATION_EPS >= ECHO_LEARN_SECS

    def _track_echo(self, rms: float, seconds: float) -> None:
        """Follow the echo level in frames that are not the candidate: a peak that holds, then fades.

        It rises within a few frames, holds through the pauses between the bot's words and
        sentences (``ECHO_HOLD_SECS``), and only then falls, so a new sentence's first
        syllable is not taken for the candidate; a clean microphone lets it fall to the floor.
        """
        level = self._echo_level
        if rms > level:
            self._echo_level = level + (rms - level) * min(1.0, ECHO_RISE_PER_SEC * seconds)
            self._echo_quiet_secs = 0.0
        elif rms > level * ECHO_PRESENT_FRACTION:
            self._echo_quiet_secs = 0.0
        else:
            self._echo_quiet_secs += seconds
            if self._echo_quiet_secs > ECHO_HOLD_SECS:
                self._echo_level = level * (1.0 - min(1.0, ECHO_FALL_PER_SEC * seconds))

    def _passes_in_tail(self, rms: float, seconds: float) -> bool:
        if rms > self._settings.cooldown_rms_threshold:
            self._hold_secs = self._hangover_secs
        elif not self._use_hold(seconds):
            return False
        self._stats.tail_passed_frames += 1
        return True

    def _use_hold(self, seconds: float) -> bool:
        """Spend hangover on a quiet frame; False when none is left."""
        if self._hold_secs <= DURATION_EPS:
            self._hold_secs = 0.0
            return False
        self._hold_secs -= seconds
        return True

    # --- reporting --------------------------------------------------------------------------

    def _report_barge_in(self, rms: float) -> None:
        self._emit(
            kind="barge_in",
            number=self._stats.barge_ins,
            rms=round(rms, 4),
            run_secs=round(self._loud_run_secs, 3),
            lookback_secs=round(self._held_secs, 3),
            threshold=round(self.barge_in_threshold, 4),
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
        except Exception as exc:  # noqa: BLE001 - reporting is best effort
            logger.warning(f"{self}: could not record echo_gate event: {exc}")
