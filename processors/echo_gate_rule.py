"""The echo gate's rule, frame by frame: its modes, loud runs, barge-in and hangover (no frames, no Pipecat).

:class:`processors.echo_gate.EchoGate` knows the bot's state, the frames and the echo reference;
it asks this rule what to do with each inbound frame, given the gate's mode and whether the
frame is loud (its module docstring describes the behaviour).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from interview.config import EchoGateSettings

GateMode = Literal[
    "audible",  # the bot may be heard: silence, except a barge-in
    "tail",  # just after the bot stopped (reverb, network echo): only loud audio passes
    "open",  # everything passes
]
Decision = Literal[
    "pass",  # push the frame as it is
    "silence",  # push a silenced copy
    "hold",  # keep it: a loud run is still undecided
    "barge_in",  # the run just became a barge-in: push the held frames and this one as they are
]

DEFAULT_HANGOVER_SECS = 0.3
DEFAULT_GAP_TOLERANCE_SECS = 0.1
# Float tolerance when summing frame durations (10 x 0.02 s must reach 0.2 s).
DURATION_EPS = 1e-6


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


class GateRule:
    """Loud runs (quiet gaps up to the tolerance do not break them), barge-in and hangover."""

    def __init__(
        self,
        settings: EchoGateSettings,
        stats: EchoGateStats,
        *,
        hangover_secs: float = DEFAULT_HANGOVER_SECS,
        gap_tolerance_secs: float = DEFAULT_GAP_TOLERANCE_SECS,
    ) -> None:
        self._settings = settings
        self._stats = stats
        self._hangover_secs = hangover_secs
        self._gap_tolerance_secs = gap_tolerance_secs
        self.loud_run_secs = 0.0  # loud audio in the current run
        self._gap_secs = 0.0  # quiet audio since the last loud frame
        self._barge_in_active = False
        self._hold_secs = 0.0  # hangover left

    def track_loud_run(self, loud: bool, seconds: float) -> None:
        """Sum loud audio; a quiet gap longer than the tolerance ends the run."""
        if loud:
            self.loud_run_secs += seconds
            self._gap_secs = 0.0
            return
        self._gap_secs += seconds
        if self._gap_secs > self._gap_tolerance_secs + DURATION_EPS:
            self.loud_run_secs = 0.0

    def bot_became_audible(self) -> None:
        """Forget the tail's hangover when the bot speaks again."""
        self._hold_secs = 0.0

    def decide(self, mode: GateMode, *, loud: bool, rms: float, seconds: float, held: int) -> Decision:
        """What to do with one frame (after :meth:`track_loud_run`); ``held``: frames the gate holds now."""
        if mode == "audible":
            return self._decide_while_audible(loud, seconds, held)
        self._barge_in_active = False
        if mode == "tail":
            return "pass" if self._passes_in_tail(rms, seconds) else "silence"
        self._hold_secs = 0.0
        if rms < self._settings.normal_rms_threshold:
            self._stats.quiet_frames += 1
        return "pass"

    def _decide_while_audible(self, loud: bool, seconds: float, held: int) -> Decision:
        if self._barge_in_active:
            if loud:
                self._hold_secs = self._hangover_secs
            elif not self._use_hold(seconds):
                self._barge_in_active = False
                self._hold_secs = 0.0
                return "silence"
            self._stats.barge_in_frames += 1
            return "pass"
        if loud and self.loud_run_secs + DURATION_EPS >= self._settings.barge_in_min_secs:
            self._barge_in_active = True
            self._hold_secs = self._hangover_secs
            self._stats.barge_ins += 1
            self._stats.barge_in_frames += 1 + held
            return "barge_in"
        if self.loud_run_secs > DURATION_EPS:
            return "hold"  # a loud run in progress: candidate or echo, decided when it ends or lasts
        return "silence"

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
