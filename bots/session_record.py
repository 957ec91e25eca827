"""The on-disk record of one interview session: nothing said or decided is lost.

    sessions/<session_id>/
      config.json        resolved interview config + how the session ran (no secrets)
      transcript.jsonl   one line per utterance, appended and flushed as it happens
      events.jsonl       phase changes, tool calls, errors, session start/end
      recording.wav      stereo (candidate left, interviewer right), appended in
                         chunks; the header is patched on every write, so the file
                         is playable even if the process dies

Lines are written through at once (one `write` each) so a crash or a dropped call keeps
everything written so far; a line that does not fit on a full disk is cut back off, so the files
hold whole lines only, and it is logged, never raised (the session and its reports go on).
Snapshots (`config.json`, `state.json`, ...) are replaced atomically: a temporary file, fsynced,
renamed over the old one, the folder fsynced, so a crash leaves the previous snapshot or the new
one, never half of one. The folder is 0700 and every file this writes 0600: a record holds a
candidate's voice and words. `close` fsyncs what was appended and never raises. The recorder
writes off the event loop.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
import uuid
import wave
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from loguru import logger

from interview.session_snapshot import SessionSnapshot, SnapshotError


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
    _transcript: int | None = None  # file descriptors, appended to with one write per line
    _events: int | None = None
    _wav: wave.Wave_write | None = None
    _wav_file: IO[bytes] | None = None
    _write_errors: int = 0
    _wav_lock: threading.Lock = field(default_factory=threading.Lock)
    _closed: bool = False
    _continue_recording: bool = False  # a reopened record: recording.wav goes on, not over

    @classmethod
    def create(cls, sessions_dir: Path, session_id: str | None = None) -> SessionRecord:
        session_id = session_id or new_session_id()
        directory = Path(sessions_dir) / session_id
        Path(sessions_dir).mkdir(parents=True, exist_ok=True)
        directory.mkdir(mode=PRIVATE_DIR_MODE, exist_ok=False)
        os.chmod(directory, PRIVATE_DIR_MODE)  # mkdir's mode is cut by the umask, never widened: set it exactly
        record = cls(directory=directory, session_id=session_id)
        record._transcript = _open_private(directory / "transcript.jsonl", os.O_APPEND)
        record._events = _open_private(directory / "events.jsonl", os.O_APPEND)
        return record

    @classmethod
    def reopen(cls, directory: Path, *, elapsed_s: float) -> SessionRecord:
        """Go on writing a suspended session's record: its clock resumes at `elapsed_s` (the time away
        included), lines are appended, and the recording goes on after silence for the gap."""
        directory = Path(directory)
        if not (directory / "events.jsonl").is_file():
            raise FileNotFoundError(f"{directory}: not a session record (no events.jsonl)")
        record = cls(directory=directory, session_id=directory.name, started_monotonic=time.monotonic() - elapsed_s)
        record._transcript = _open_private(directory / "transcript.jsonl", os.O_APPEND)
        record._events = _open_private(directory / "events.jsonl", os.O_APPEND)
        record._continue_recording = True
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
        self.write_json("config.json", data)

    def write_json(self, name: str, data: dict[str, Any]) -> Path:
        """Replace snapshot `name` atomically; OSError (the old snapshot left whole) if it cannot be written."""
        path = self.directory / name
        write_atomically(path, json.dumps(data, indent=2, default=str).encode())
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
        """Flush and fsync everything; never raises (a full disk is logged, and the reports still run)."""
        if self._closed:
            return
        with self._wav_lock:
            try:
                if self._wav is not None:
                    self._wav.close()  # patches the header one last time
                if self._wav_file is not None:
                    self._wav_file.flush()
                    os.fsync(self._wav_file.fileno())
            except OSError as exc:
                self._write_failed("recording.wav", exc)
            finally:
                if self._wav_file is not None:
                    _quietly(self._wav_file.close)
                self._wav, self._wav_file = None, None
        if self._write_errors:  # said in the record too, if there is room for one more line
            lost = self._write_errors
            self._append(self._events, {"t": _now_iso(), "type": "error", "message": f"{lost} record write(s) lost"})
        for name, fd in (("transcript.jsonl", self._transcript), ("events.jsonl", self._events)):
            if fd is None:
                continue
            try:
                os.fsync(fd)
            except OSError as exc:
                self._write_failed(name, exc)
        self._closed = True
        for fd in (self._transcript, self._events):
            if fd is not None:
                _quietly(lambda fd=fd: os.close(fd))
        _fsync_directory(self.directory)

    # --- internals ---------------------------------------------------------------------

    def _append(self, fd: int | None, line: dict[str, Any]) -> None:
        """One line in one write; a line that does not fit is cut back off (whole lines only), logged, not raised."""
        if fd is None or self._closed:
            logger.warning(f"session {self.session_id}: record closed, dropping line {line}")
            return
        data = (json.dumps(line, default=str) + "\n").encode()
        try:
            start = os.lseek(fd, 0, os.SEEK_END)
        except OSError as exc:
            self._write_failed(_name(fd, self), exc)
            return
        try:
            written = 0
            while written < len(data):
                written += os.write(fd, data[written:])
        except OSError as exc:
            _quietly(lambda: os.ftruncate(fd, start))
            self._write_failed(_name(fd, self), exc)

    def _write_failed(self, name: str, exc: OSError) -> None:
        """Say a write failed: the first few in full, then every 100th (a full disk fails every line)."""
        self._write_errors += 1
        if self._write_errors <= 3 or self._write_errors % 100 == 0:
            logger.error(
                f"session {self.session_id}: could not write {name} ({exc.strerror or exc}); "
                f"{self._write_errors} write(s) lost so far"
            )

    def _write_audio(self, pcm: bytes, sample_rate: int, num_channels: int) -> None:
        with self._wav_lock:
            if self._closed:
                return
            try:
                if self._wav is None:
                    earlier = self._earlier_recording(sample_rate, num_channels, chunk_bytes=len(pcm))
                    self._wav_file = os.fdopen(_open_private(self.recording_path, os.O_TRUNC), "wb")
                    self._wav = wave.open(self._wav_file, "wb")  # noqa: SIM115 - closed in close()
                    self._wav.setnchannels(num_channels)
                    self._wav.setsampwidth(2)
                    self._wav.setframerate(sample_rate)
                    if earlier:
                        self._wav.writeframes(earlier)
                self._wav.writeframes(pcm)  # patches the header: the file stays playable
            except OSError as exc:
                self._write_failed("recording.wav", exc)

    def _earlier_recording(self, sample_rate: int, num_channels: int, *, chunk_bytes: int) -> bytes:
        """A reopened record's audio so far, then silence up to now: the recording keeps the record's clock."""
        if not self._continue_recording or not self.recording_path.is_file():
            return b""
        try:
            with wave.open(str(self.recording_path), "rb") as old:
                if (old.getframerate(), old.getnchannels(), old.getsampwidth()) != (sample_rate, num_channels, 2):
                    logger.warning(f"session {self.session_id}: earlier recording has another format; kept aside")
                    os.replace(self.recording_path, self.recording_path.with_name("recording-before-resume.wav"))
                    return b""
                frames = old.readframes(old.getnframes())
        except (OSError, EOFError, wave.Error) as exc:
            logger.warning(f"session {self.session_id}: earlier recording unreadable ({exc}); starting a new one")
            return b""
        frame_bytes = num_channels * 2
        chunk_starts_at = (
            int(self.elapsed() * sample_rate) - chunk_bytes // frame_bytes
        )  # the recorder hands over chunks
        gap_frames = max(0, chunk_starts_at - len(frames) // frame_bytes)
        return frames + b"\x00" * (gap_frames * frame_bytes)


PRIVATE_DIR_MODE, PRIVATE_FILE_MODE = 0o700, 0o600


def _open_private(path: Path, flags: int) -> int:
    """A file descriptor for writing `path`, created 0600 (never readable by others in between)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | flags, PRIVATE_FILE_MODE)
    os.fchmod(fd, PRIVATE_FILE_MODE)  # an existing file keeps its old mode through O_CREAT
    return fd


def _name(fd: int, record: SessionRecord) -> str:
    return "transcript.jsonl" if fd == record._transcript else "events.jsonl"


def _quietly(action: Any) -> None:
    try:
        action()
    except OSError:
        pass


def _fsync_directory(directory: Path) -> None:
    """Make a rename or a new file in `directory` durable (best effort: some filesystems refuse)."""
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_atomically(path: Path, data: bytes) -> None:
    """Replace `path` with `data` (0600): the old content or the new, never a mix; OSError if it failed."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = _open_private(tmp, os.O_TRUNC)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        _quietly(lambda: os.unlink(tmp))
        raise
    _fsync_directory(path.parent)


def read_resumable_record(directory: Path) -> tuple[dict[str, Any], SessionSnapshot]:
    """config.json and snapshot.json of a record that has not ended; SnapshotError naming what is wrong."""
    directory = Path(directory)
    try:
        config = json.loads((directory / "config.json").read_text(encoding="utf-8"))
        events = (directory / "events.jsonl").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SnapshotError(f"{directory}: not a readable session record: {exc}") from exc
    if not isinstance(config, dict) or not isinstance(config.get("interview"), dict):
        raise SnapshotError(f"{directory}/config.json: no interview in it")
    if '"session_ended"' in events:
        raise SnapshotError(f"session {directory.name} has ended: it cannot be resumed")
    snapshot = SessionSnapshot.load(directory)
    if snapshot.session_id != directory.name:
        raise SnapshotError(f"{directory}/snapshot.json: belongs to session {snapshot.session_id!r}")
    return config, snapshot


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
