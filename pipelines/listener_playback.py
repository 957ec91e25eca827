"""What a session's pipeline does when its transport reports playback at the listener (Twilio marks)."""

from __future__ import annotations

import time
from collections.abc import Callable

from latency.tracker import LatencyTracker
from processors.echo_gate import EchoGate


class ListenerPlayback:
    """A playback listener that feeds one session's echo gate and latency tracker."""

    def __init__(
        self, echo_gate: EchoGate, latency_tracker: LatencyTracker, *, wall_clock: Callable[[], float] = time.time
    ) -> None:
        self._echo_gate = echo_gate
        self._tracker = latency_tracker
        self._wall_clock = wall_clock

    def playback_started(self, lead_secs: float) -> None:
        self._echo_gate.playback_started()
        self._tracker.listener_playback_started(wall_time=self._wall_clock() - lead_secs, source="twilio_mark")

    def playback_finished(self) -> None:
        self._echo_gate.playback_finished()
