"""A session recording as the replay reads it: checked stereo PCM, and where each channel has speech.

Why our own: the record's `recording.wav` is 16-bit stereo (candidate left, interviewer right,
`bots/session_record.py`); a replay must refuse a file it cannot cut fairly (mono, another sample
width, a header promising more audio than the file holds) with one line, and find speech the same
way in the original and in the new recording, so the two sessions are measured by the same ruler.
"""

from __future__ import annotations

import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from regression.records import RecordError

FRAME_SECONDS = 0.02  # activity is judged per 20 ms, the pipeline's audio chunk
MIN_LEVEL = 300.0  # RMS (of 32768) below which a frame is silence, whatever the noise floor (about -40 dBFS)
NOISE_FACTOR = 3.0  # a frame is speech when it is this much louder than the channel's quiet frames (20th pct.)
MERGE_GAP = 0.15  # gaps shorter than this inside speech are not pauses (stop consonants, frame edges)
MIN_SEGMENT = 0.06  # shorter bursts are clicks, not speech
MAX_SECONDS = 2 * 3600  # a recording longer than this is no interview this tool replays


@dataclass(frozen=True)
class Segment:
    start: float
    end: float


@dataclass(frozen=True)
class Recording:
    """Both channels as int16 arrays at `rate` Hz."""

    path: Path
    rate: int
    left: np.ndarray
    right: np.ndarray

    @property
    def seconds(self) -> float:
        return len(self.left) / self.rate

    def candidate_pcm(self, start: float, end: float, rate: int = 16000) -> bytes:
        """The left channel from `start` to `end` seconds, as 16-bit mono PCM at `rate` (resampled if needed)."""
        piece = self.left[max(0, int(start * self.rate)) : max(0, int(end * self.rate))]
        if self.rate != rate and len(piece):
            positions = np.arange(int(len(piece) * rate / self.rate)) * (self.rate / rate)
            piece = np.interp(positions, np.arange(len(piece)), piece.astype(np.float64)).astype(np.int16)
        return piece.astype("<i2").tobytes()


def read_recording(path: Path) -> Recording:
    """The checked recording; `RecordError` naming the problem (missing, not WAV, mono, truncated, ...)."""
    if not path.is_file():
        raise RecordError(f"{path.parent}: not replayable: recording.wav is missing")
    try:
        with wave.open(str(path), "rb") as wav:
            channels, width, rate, frames = wav.getnchannels(), wav.getsampwidth(), wav.getframerate(), wav.getnframes()
            if channels != 2:
                raise RecordError(
                    f"{path}: {channels}-channel recording; replay needs the stereo record "
                    "(candidate left, interviewer right)"
                )
            if width != 2:
                raise RecordError(f"{path}: {8 * width}-bit samples; the session recorder writes 16-bit PCM")
            if not 8000 <= rate <= 48000:
                raise RecordError(f"{path}: sample rate {rate} Hz is not a session recording's (8000-48000)")
            if frames > MAX_SECONDS * rate:
                raise RecordError(f"{path}: {frames / rate / 3600:.1f} h of audio; at most {MAX_SECONDS // 3600} h")
            data = wav.readframes(frames)
    except (wave.Error, EOFError) as exc:
        raise RecordError(f"{path}: not a WAV recording ({exc})") from None
    except OSError as exc:
        raise RecordError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    held = len(data) // 4
    if held < frames:
        raise RecordError(
            f"{path}: truncated: its header promises {frames / rate:.1f} s of audio, the file holds {held / rate:.1f} s"
        )
    if held == 0:
        raise RecordError(f"{path}: holds no audio")
    stereo = np.frombuffer(data[: held * 4], dtype="<i2").reshape(-1, 2)
    return Recording(path, rate, stereo[:, 0].copy(), stereo[:, 1].copy())


def frame_levels(samples: np.ndarray, rate: int) -> np.ndarray:
    """RMS per 20 ms frame (the last partial frame dropped)."""
    size = int(rate * FRAME_SECONDS)
    count = len(samples) // size
    levels = np.empty(count, dtype=np.float64)
    step = 3000  # frames per block: a long recording never becomes one huge float array
    for first in range(0, count, step):
        block = samples[first * size : min(count, first + step) * size].astype(np.float64).reshape(-1, size)
        levels[first : first + len(block)] = np.sqrt(np.mean(block**2, axis=1))
    return levels


def speech_segments(samples: np.ndarray, rate: int) -> list[Segment]:
    """Where the channel has speech: loud frames, short gaps merged, clicks dropped."""
    levels = frame_levels(samples, rate)
    if not len(levels):
        return []
    threshold = max(MIN_LEVEL, NOISE_FACTOR * float(np.percentile(levels, 20)))
    return segments_from_activity(levels > threshold, FRAME_SECONDS)


def segments_from_activity(active: np.ndarray, frame_seconds: float) -> list[Segment]:
    """Runs of active frames as seconds; gaps under MERGE_GAP joined, runs under MIN_SEGMENT dropped."""
    edges = np.diff(np.concatenate(([0], active.astype(np.int8), [0])))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    merged: list[list[float]] = []
    for start, end in zip(starts * frame_seconds, ends * frame_seconds, strict=True):
        if merged and start - merged[-1][1] < MERGE_GAP:
            merged[-1][1] = float(end)
        else:
            merged.append([float(start), float(end)])
    return [Segment(round(s, 3), round(e, 3)) for s, e in merged if e - s >= MIN_SEGMENT]
