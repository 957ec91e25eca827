"""A record's answers as the replay plays and judges them: cut from the recording by the transcript's timing.

How an answer is found: a candidate line of transcript.jsonl is written once the interviewer's
reply to it was heard (`interview/transcript_lines.py`), and an interviewer line when its speech
ended, so the answer to a question lies between the previous line's time and its own; inside that
window the left channel's first to last speech is the answer, its pauses kept as recorded.
Consecutive candidate lines (no interviewer line between them) are one answer.

How a turn is judged, the same way for the original and the new session (`observe`): a cut-off is
interviewer speech (right channel) beginning after the answer began and before its audio ended; the
reply delay is from the answer's end to the interviewer speech that follows it (0 when the interviewer
was still talking at the end); a reply the session cut because the answer went on
(`reply_cut_by_resumed_answer`) is a cut-off too, where the recording's overlap may not show it, and a
listening cue (a `backchannel` event) is not; tool calls and phase moves are the events between this answer's start
and the next one's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from interview.loader import ConfigError, config_from_data
from regression.records import RecordError, _read_json, _read_text, _read_transcript
from regression.replay_audio import Recording, Segment, read_recording, speech_segments

MAX_ANSWERS = 200
OVERLAP_MARGIN = 0.05  # interviewer speech must begin this far inside the answer to count as cutting it off
# Seconds of the recording kept before the answer's first and after its last speech: whole 20 ms chunks, so
# the replayed chunks carry the same samples as the ones the original session received.
LEAD_PAD, TAIL_PAD = 0.16, 0.24
END_SLACK = 2.0
CUT_REPLY_EVENT = "reply_cut_by_resumed_answer"  # the session itself saw its reply begin inside the answer
BACKCHANNEL_EVENT = "backchannel"  # a listening cue ("Mm-hm.") the interviewer plays in a long pause
CUE_SLACK = 1.5  # seconds between a cue's event and its audio starting  # a line may be written this long after the recording's last chunk (the session closing)


@dataclass(frozen=True)
class Line:
    number: int
    speaker: str
    text: str
    phase: str
    elapsed: float


@dataclass(frozen=True)
class RecordedAnswer:
    index: int  # 1-based, in the order they were given
    line: int  # transcript.jsonl line number (the first, if several lines are one answer)
    phase: str
    heard: str  # what the recogniser heard then
    speech: Segment  # recording seconds, first to last candidate speech
    lead_in: float  # silence the candidate left after the interviewer's last speech before answering

    @property
    def clip(self) -> Segment:
        """The stretch of the left channel played for this answer."""
        return Segment(max(0.0, self.speech.start - LEAD_PAD), self.speech.end + TAIL_PAD)


@dataclass(frozen=True)
class Observation:
    """One answer's turn in one session."""

    heard: str
    cut_off: bool
    reply_delay_ms: float | None  # None: no interviewer speech followed
    tools: list[str] = field(default_factory=list)
    phase_moves: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"heard": self.heard, "cut_off": self.cut_off, "reply_delay_ms": self.reply_delay_ms,
                "tools": self.tools, "phase_moves": self.phase_moves}  # fmt: skip


@dataclass(frozen=True)
class SessionRecordView:
    """What the replay reads of one record folder."""

    directory: Path
    interview: dict[str, Any]  # the interview config the session ran with (config.json's "interview")
    recording: Recording
    lines: list[Line]
    events: list[dict[str, Any]]

    @property
    def interviewer_speech(self) -> list[Segment]:
        return speech_segments(self.recording.right, self.recording.rate)

    @property
    def candidate_speech(self) -> list[Segment]:
        return speech_segments(self.recording.left, self.recording.rate)


def read_record(directory: Path) -> SessionRecordView:
    """The record's config, recording, timed transcript and events; `RecordError` for anything unusable."""
    config = _read_json(directory, "config.json")
    interview = config.get("interview")
    if not isinstance(interview, dict):
        raise RecordError(f"{directory}/config.json: no interview config in it (key 'interview')")
    try:
        config_from_data(interview, f"{directory}/config.json")
    except ConfigError as exc:
        raise RecordError(str(exc)) from None
    recording = read_recording(directory / "recording.wav")
    return SessionRecordView(directory, interview, recording, _timed_lines(directory), _events(directory))


def recorded_answers(record: SessionRecordView) -> list[RecordedAnswer]:
    """The candidate's answers, each located in the recording; a transcript that does not fit it is refused."""
    speech = record.candidate_speech
    interviewer = record.interviewer_speech
    answers: list[RecordedAnswer] = []
    window_start = 0.0
    pending: list[Line] = []
    for line in [*record.lines, None]:
        if line is not None and line.speaker == "candidate":
            pending.append(line)
            continue
        if pending:
            answers.append(_answer(record, len(answers) + 1, pending, window_start, speech, interviewer))
            pending = []
        if line is not None:
            window_start = line.elapsed
    if not answers:
        raise RecordError(f"{record.directory}/transcript.jsonl: no candidate answers to replay")
    if len(answers) > MAX_ANSWERS:
        raise RecordError(f"{record.directory}: {len(answers)} answers; at most {MAX_ANSWERS} per replay")
    return answers


def _answer(
    record: SessionRecordView,
    index: int,
    lines: list[Line],
    start: float,
    speech: list[Segment],
    interviewer: list[Segment],
) -> RecordedAnswer:
    first, last = lines[0], lines[-1]
    where = f"{record.directory}/transcript.jsonl line {first.number}"
    length = record.recording.seconds
    if start >= length or first.elapsed > length + END_SLACK:
        raise RecordError(
            f"{where}: a candidate answer timed at {max(start, first.elapsed):.1f} s, past the recording's end "
            f"({length:.1f} s): the transcript does not match the audio"
        )
    end = min(last.elapsed, length)
    inside = [s for s in speech if s.end > start and s.start < end]
    if not inside:
        raise RecordError(
            f"{where}: no candidate speech in recording.wav between {start:.1f} and {end:.1f} s: "
            "the transcript does not match the audio"
        )
    answer = Segment(max(start, inside[0].start), min(end, inside[-1].end))
    before = [s.end for s in interviewer if s.end <= answer.start]
    lead_in = answer.start - before[-1] if before else 1.0
    text = " ".join(" ".join(line.text.split()) for line in lines)
    return RecordedAnswer(index, first.number, first.phase, text, answer, round(lead_in, 3))


def observe(
    speech: Segment, until: float, interviewer: list[Segment], events: list[dict[str, Any]], heard: str
) -> Observation:
    """One answer's turn: cut off or not, reply delay, and the tool calls / phase moves up to `until`."""
    cues = [
        at for e in events if e.get("type") == BACKCHANNEL_EVENT and isinstance(at := e.get("elapsed_s"), (int, float))
    ]
    cut_off = any(
        speech.start + OVERLAP_MARGIN < s.start < speech.end - OVERLAP_MARGIN
        and not any(-CUE_SLACK <= s.start - at <= CUE_SLACK for at in cues)  # a listening cue is no reply
        for s in interviewer
    ) or any(
        e.get("type") == CUT_REPLY_EVENT and isinstance(e.get("elapsed_s"), (int, float))
        and speech.start <= e["elapsed_s"] < until for e in events
    )  # fmt: skip
    reply = next((s for s in interviewer if s.end > speech.end and s.start < until), None)
    delay = None if reply is None else round(max(0.0, reply.start - speech.end) * 1000, 1)
    tools, moves = [], []
    for event in events:
        at = event.get("elapsed_s")
        if not isinstance(at, (int, float)) or not speech.start <= at < until:
            continue
        if event.get("type") == "tool_call":
            tools.append(str(event.get("name")))
        elif event.get("type") == "phase_transition":
            moves.append(f"{event.get('from')}→{event.get('to')}")
    return Observation(heard, cut_off, delay, tools, moves)


def observe_original(record: SessionRecordView, answers: list[RecordedAnswer]) -> list[Observation]:
    interviewer = record.interviewer_speech
    ends = [a.speech.start for a in answers[1:]] + [record.recording.seconds + END_SLACK]
    return [
        observe(a.speech, until, interviewer, record.events, a.heard) for a, until in zip(answers, ends, strict=True)
    ]


def _timed_lines(directory: Path) -> list[Line]:
    """The transcript's lines with their times; checked as the consistency command checks them, plus timing."""
    _read_transcript(directory)  # every line JSON with speaker and text, or RecordError naming the line
    lines: list[Line] = []
    rows = _read_text(directory, "transcript.jsonl").splitlines()
    for number, line in ((n, json.loads(raw)) for n, raw in enumerate(rows, start=1) if raw.strip()):
        elapsed = line.get("elapsed_s")
        where = f"{directory}/transcript.jsonl line {number}"
        if not isinstance(elapsed, (int, float)) or elapsed < 0:
            raise RecordError(f"{where}: no timing (elapsed_s) to cut the audio by")
        if lines and elapsed + 0.5 < lines[-1].elapsed:
            raise RecordError(f"{where}: timed before the line above it")
        if "keypad" not in line:
            lines.append(Line(number, str(line["speaker"]), line["text"], str(line.get("phase") or ""), float(elapsed)))
    return lines


def _events(directory: Path) -> list[dict[str, Any]]:
    """events.jsonl's lines (an unreadable line is skipped: events only annotate the comparison)."""
    if not (directory / "events.jsonl").is_file():
        return []
    events = []
    for raw in _read_text(directory, "events.jsonl").splitlines():
        try:
            event = json.loads(raw)
        except json.JSONDecodeError:
            continue
        if isinstance(event, dict):
            events.append(event)
    return events


def observe_replayed(record: SessionRecordView, played: list[Segment], interviewer: list[Segment]) -> list[Observation]:
    """The new session's turns, measured at the candidate's end of the socket.

    Why not from the new recording: Pipecat's recorder pads the candidate's track to the interviewer's
    whenever the interviewer's audio arrives ahead of real time, so candidate speech over a reply
    lands late in recording.wav (or past its end). The candidate's own clock (seconds since it
    connected, within a fraction of a second of the record's elapsed_s) knows when each answer was
    sent and when the interviewer's audio played. What the recogniser heard now is every candidate
    line written between this answer's start and the next one's.
    """
    ends = [s.start for s in played[1:]] + [float("inf")]
    observations = []
    for answer, until in zip(played, ends, strict=True):
        lines = [ln for ln in record.lines if ln.speaker == "candidate" and answer.start <= ln.elapsed < until]
        heard = " ".join(" ".join(ln.text.split()) for ln in lines)
        observations.append(observe(answer, until, interviewer, record.events, heard))
    return observations
