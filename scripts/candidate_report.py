"""What the simulated candidate observed: per-turn client-side latency and how the session ended.

Why: the server's own latency observer stops when the transport starts writing audio; this
report measures what a listener experiences (end of the candidate's answer -> first
interviewer audio at the client), so the two can be compared against the latency budget.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

NORMAL_CLOSE_CODES = (1000, 1001)


@dataclass
class TurnRecord:
    """One candidate answer and the interviewer's reaction to it.

    Times are seconds since the connection opened (the start of the recordings).
    """

    index: int
    answer_text: str
    answer_start_time: float
    answer_end_time: float
    first_reply_audio_time: float | None = None
    latency_ms: float | None = None
    finished: bool = False  # False: the session ended while the candidate was still speaking
    fallback: bool = False
    overlapped: bool = False  # interviewer audio arrived while the candidate was still answering
    # (arrival, seconds) of each audible interviewer chunk that arrived during the answer: a
    # listening cue is one short burst, a reply that cut the answer off is another.
    overlap_audio: list[tuple[float, float]] = field(default_factory=list)

    def overlap_bursts(self, gap: float = 0.5) -> list[tuple[float, float]]:
        """The overlapping audio as (start, seconds) bursts: chunks arriving within ``gap`` of each other."""
        bursts: list[list[float]] = []
        for at, seconds in self.overlap_audio:
            if bursts and at - (bursts[-1][0] + bursts[-1][1]) <= gap:
                bursts[-1][1] = at + seconds - bursts[-1][0]
            else:
                bursts.append([at, seconds])
        return [(b[0], b[1]) for b in bursts]


@dataclass
class CandidateReport:
    """Outcome of one simulated interview."""

    url: str
    turns: list[TurnRecord] = field(default_factory=list)
    wall_start: float = 0.0  # time.time() when the connection opened: maps turn times onto the bot's records
    heard_seconds: float = 0.0  # all interviewer audio received, silent padding included
    heard_speech_seconds: float = 0.0  # the audible part of it
    said_seconds: float = 0.0
    duration_seconds: float = 0.0
    closed_normally: bool = False
    close_code: int | None = None
    close_reason: str | None = None
    timed_out: bool = False
    error: str | None = None
    interviewer_texts: list[str] = field(default_factory=list)  # RTVI bot-output / TextFrames
    server_transcripts: list[str] = field(default_factory=list)  # what the server heard (RTVI)
    rtvi_events: dict[str, int] = field(default_factory=dict)  # RTVI message type -> count
    recordings: dict[str, str] = field(default_factory=dict)

    @property
    def latencies_ms(self) -> list[float]:
        """Measured voice-to-voice latencies, in turn order."""
        return [t.latency_ms for t in self.turns if t.latency_ms is not None]

    @property
    def completed(self) -> bool:
        """The server ended the interview normally after at least one exchange."""
        return self.closed_normally and any(t.finished for t in self.turns) and self.heard_speech_seconds > 0

    def latency_summary(self) -> dict[str, float | int | None]:
        """count / p50 / p95 / max of the client-side latency in milliseconds."""
        values = self.latencies_ms
        return {
            "count": len(values),
            "p50_ms": percentile(values, 50),
            "p95_ms": percentile(values, 95),
            "max_ms": max(values) if values else None,
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view, including the latency summary and completion flag."""
        data = asdict(self)
        data["latency"] = self.latency_summary()
        data["completed"] = self.completed
        return data

    def write_json(self, path: str | Path) -> None:
        """Write ``to_dict()`` as pretty JSON."""
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")


def percentile(values: list[float], pct: float) -> float | None:
    """Nearest-rank percentile (no interpolation: every value reported was really observed)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]
