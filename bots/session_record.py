"""The on-disk record of one interview session: nothing said or decided is lost.

    sessions/<session_id>/
      config.json        resolved interview config + how the session ran (no secrets)
      transcript.jsonl   one line per utterance, appended and flushed as it happens
      events.jsonl       phase changes, tool calls, errors, session start/end
      recording.wav      stereo (candidate left, interviewer right), appended in
                         chunks; the header is patched on every write, so the file
                         is playable even if the process dies

Lines are flushed immediately so a crash or a dropped call keeps everything
written so far. The recorder writes off the event loop.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
import wave
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from loguru import logger


def new_session_id() -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return f"{stamp}-{uuid.uuid4().hex[:6]}"


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass
class SessionRecord:
    """Append-only writer for one session directory."""

    directory: Path
    session_id: str
    started_monotonic: float = field(default_factory=time.monotonic)
    _transcript: IO[str] | None = None
    _events: IO[str] | None = None
    _wav: wave.Wave_write | None = None
    _wav_lock: threading.Lock = field(default_factory=threading.Lock)
    _closed: bool = False

    @classmethod
    def create(cls, sessions_dir: Path, session_id: str | None = None) -> SessionRecord:
        session_id = session_id or new_session_id()
        directory = Path(sessions_dir) / session_id
        directory.mkdir(parents=True, exist_ok=False)
        record = cls(directory=directory, session_id=session_id)
        record._transcript = open(directory / "transcript.jsonl", "a", encoding="utf-8")  # noqa: SIM115 - open for the record's life
        record._events = open(directory / "events.jsonl", "a", encoding="utf-8")  # noqa: SIM115 - open for the record's life
        return record

    # --- paths -------------------------------------------------------------------------

    @property
    def transcript_path(self) -> Path:
        return self.directory / "transcript.jsonl"

    @property
    def events_path(self) -> Path:
        return self.directory / "events.jsonl"

    @property
    def recording_path(self) -> Path:
        return self.directory / "recording.wav"

    def elapsed(self) -> float:
        return round(time.monotonic() - self.started_monotonic, 3)

    # --- writers -----------------------------------------------------------------------

    def write_config(self, data: dict[str, Any]) -> None:
        (self.directory / "config.json").write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")

    def write_json(self, name: str, data: dict[str, Any]) -> Path:
        path = self.directory / name
        path.write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")
        return path

    def transcript(self, speaker: str, text: str, **extra: Any) -> None:
        self._append(
            self._transcript, {"t": _now_iso(), "elapsed_s": self.elapsed(), "speaker": speaker, "text": text, **extra}
        )

    def event(self, event_type: str, **data: Any) -> None:
        self._append(self._events, {"t": _now_iso(), "elapsed_s": self.elapsed(), "type": event_type, **data})

    async def append_audio(self, pcm: bytes, sample_rate: int, num_channels: int) -> None:
        if pcm:
            await asyncio.to_thread(self._write_audio, pcm, sample_rate, num_channels)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for handle in (self._transcript, self._events):
            if handle is not None:
                handle.close()
        with self._wav_lock:
            if self._wav is not None:
                self._wav.close()
                self._wav = None

    # --- internals ---------------------------------------------------------------------

    def _append(self, handle: IO[str] | None, line: dict[str, Any]) -> None:
        if handle is None or self._closed:
            logger.warning(f"session {self.session_id}: record closed, dropping line {line}")
            return
        handle.write(json.dumps(line, default=str) + "\n")
        handle.flush()

    def _write_audio(self, pcm: bytes, sample_rate: int, num_channels: int) -> None:
        with self._wav_lock:
            if self._closed:
                return
            if self._wav is None:
                self._wav = wave.open(str(self.recording_path), "wb")  # noqa: SIM115 - closed in close()
                self._wav.setnchannels(num_channels)
                self._wav.setsampwidth(2)
                self._wav.setframerate(sample_rate)
            self._wav.writeframes(pcm)  # patches the header: the file stays playable


def close_abandoned_record(directory: Path, why: str) -> bool:
    """End the record of a session whose process died: an `error` and a `session_ended` (reason `error`) line.

    What it wrote stays as it is (lines were flushed as they happened; the WAV header is
    patched on every write). False when the record had already ended or is not there."""
    events = Path(directory) / "events.jsonl"
    try:
        with open(events, encoding="utf-8") as f:
            if any('"session_ended"' in line for line in f):
                return False
        with open(events, "a", encoding="utf-8") as f:
            for event in ({"type": "error", "message": why}, {"type": "session_ended", "reason": "error"}):
                f.write(json.dumps({"t": _now_iso(), **event}) + "\n")
    except OSError as exc:
        logger.error(f"could not close the record in {directory}: {exc}")
        return False
    return True
