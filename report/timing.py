"""The recording's clock: where in recording.wav each transcript line (and each quote) was said.

Why estimates: the record stamps a line when its turn *ended* (`elapsed_s`, seconds since the
session record opened), and the recording starts when the candidate joined. A line therefore
ends at `elapsed_s - joined`, minus the silence the turn-taking waited for on the candidate's
side, and starts no earlier than the previous line ended, nor earlier than its words need at a
brisk speaking rate. A quote inside a long answer is placed by its position in the text. The
page marks these times as approximate; the links seek a moment before them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from interview.text_similarity import normalise

WORDS_PER_SECOND = 2.6
SEEK_LEAD_SECONDS = 0.5  # start playback a moment before the words


@dataclass(frozen=True)
class TimedLine:
    index: int
    speaker: str  # "candidate" | "interviewer" | anything else the record holds
    text: str
    phase: str | None
    start: float  # seconds into recording.wav (approximate)
    end: float
    interrupted: bool
    keypad: str | None

    @property
    def seek(self) -> float:
        return max(0.0, self.start - SEEK_LEAD_SECONDS)


def clock(seconds: float | None) -> str:
    """m:ss (or h:mm:ss) for display."""
    if seconds is None:
        return "–"
    total = max(0, round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def recording_origin(events: list[dict[str, Any]]) -> float:
    """Session-record seconds at which recording.wav starts (the candidate joining)."""
    for event in events:
        if event.get("type") == "candidate_joined" and isinstance(event.get("elapsed_s"), (int, float)):
            return float(event["elapsed_s"])
    return 0.0


def timed_lines(transcript: list[dict[str, Any]], origin: float, candidate_tail: float) -> list[TimedLine]:
    """Each transcript line on the recording's clock; `candidate_tail` is the turn-stop silence."""
    lines: list[TimedLine] = []
    previous_end = 0.0
    for index, row in enumerate(transcript):
        text = str(row.get("text") or "")
        at = row.get("elapsed_s")
        stamp = float(at) - origin if isinstance(at, (int, float)) else previous_end
        speaker = str(row.get("speaker") or "unknown")
        end = max(previous_end, stamp - (candidate_tail if speaker == "candidate" else 0.0))
        spoken = len(text.split()) / WORDS_PER_SECOND
        start = max(previous_end, end - spoken) if spoken else end
        lines.append(
            TimedLine(
                index=index,
                speaker=speaker,
                text=text,
                phase=row.get("phase") if isinstance(row.get("phase"), str) else None,
                start=round(max(0.0, start), 2),
                end=round(max(0.0, end), 2),
                interrupted=bool(row.get("interrupted")),
                keypad=str(row["keypad"]) if row.get("keypad") else None,
            )
        )
        previous_end = max(previous_end, stamp)
    return lines


def locate_quote(quote: str, lines: list[TimedLine]) -> tuple[TimedLine, float] | None:
    """The candidate line containing `quote` (case/space-insensitive) and the seek time of the quote in it."""
    wanted = _squash(quote)
    if not wanted:
        return None
    for line in lines:
        if line.speaker != "candidate":
            continue
        haystack = _squash(line.text)
        position = haystack.find(wanted)
        if position < 0:
            continue
        fraction = position / max(1, len(haystack))
        at = line.start + fraction * (line.end - line.start)
        return line, round(max(0.0, at - SEEK_LEAD_SECONDS), 2)
    return None


def _squash(text: str) -> str:
    return " ".join("".join(c if c.isalnum() or c == "'" else " " for c in normalise(text)).split())
