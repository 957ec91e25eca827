"""Audio plumbing for the simulated candidate: microphone feed, speaker model, and recorder.

Why: a believable client has to behave like a device, not like a file upload. A microphone
never stops producing 20 ms chunks (silence between answers), and a speaker plays received
audio on its own clock (the Pipecat server sends faster than real time, so "when the
interviewer stopped talking" is when the speaker's buffer runs dry, not when packets stop).
The recorder puts both sides on one timeline so a person can listen to the conversation.
"""

from __future__ import annotations

import asyncio
import wave
from collections import deque
from pathlib import Path

import numpy as np

MIC_SAMPLE_RATE = 16000
CHUNK_SECONDS = 0.02
CHUNK_BYTES = int(MIC_SAMPLE_RATE * CHUNK_SECONDS) * 2  # 640 bytes of int16 mono
SILENCE_PEAK = 20  # pipecat's SPEAKING_THRESHOLD: a chunk whose peak is at most this is silence


class MicrophoneFeed:
    """What the microphone captures next: queued speech and pauses, otherwise room silence."""

    def __init__(self, noise_amplitude: int = 0, seed: int = 0) -> None:
        self._queue: deque[tuple[bytes, bool]] = deque()
        self._idle = asyncio.Event()
        self._idle.set()
        self._noise_amplitude = max(0, int(noise_amplitude))
        self._rng = np.random.default_rng(seed)
        self._silence = bytes(CHUNK_BYTES)

    def say(self, pcm: bytes) -> None:
        """Queue 16 kHz mono int16 speech (padded to whole 20 ms chunks)."""
        self._enqueue(pcm, speech=True)

    def pause(self, seconds: float) -> None:
        """Queue a silent stretch that belongs to the current answer."""
        n_chunks = max(0, round(seconds / CHUNK_SECONDS))
        self._enqueue(bytes(CHUNK_BYTES * n_chunks), speech=False)

    def _enqueue(self, pcm: bytes, speech: bool) -> None:
        if len(pcm) % CHUNK_BYTES:
            pcm = pcm + bytes(CHUNK_BYTES - len(pcm) % CHUNK_BYTES)
        for i in range(0, len(pcm), CHUNK_BYTES):
            chunk = pcm[i : i + CHUNK_BYTES]
            self._queue.append((chunk, speech and is_audible(chunk)))
        if self._queue:
            self._idle.clear()

    def next_chunk(self) -> tuple[bytes, bool]:
        """The next 20 ms chunk and whether it carries audible speech."""
        if self._queue:
            chunk, speech = self._queue.popleft()
            if not self._queue:
                self._idle.set()
            return chunk, speech
        return self._room_tone(), False

    def clear(self) -> None:
        """Drop everything queued (the session is over)."""
        self._queue.clear()
        self._idle.set()

    @property
    def busy(self) -> bool:
        """True while queued speech or pauses remain."""
        return bool(self._queue)

    async def wait_idle(self) -> None:
        """Wait until everything queued has been sent."""
        await self._idle.wait()

    def _room_tone(self) -> bytes:
        if not self._noise_amplitude:
            return self._silence
        n = CHUNK_BYTES // 2
        noise = self._rng.integers(-self._noise_amplitude, self._noise_amplitude + 1, n, dtype=np.int16)
        return noise.astype("<i2").tobytes()


class SpeakerModel:
    """The client's loudspeaker: received audio plays back to back, starting when it arrives.

    Silent chunks (the server's end-of-session padding, or a mixer's idle output) take playback
    time but do not count as the interviewer talking.
    """

    def __init__(self) -> None:
        self.playing_until = 0.0
        self.audible_until = 0.0

    def schedule(self, now: float, duration: float, audible: bool = True) -> float:
        """Queue ``duration`` seconds of audio that arrived at ``now``; returns when it starts playing."""
        start = max(now, self.playing_until)
        self.playing_until = start + duration
        if audible:
            self.audible_until = self.playing_until
        return start

    def flush(self, now: float) -> None:
        """Stop playback now and drop what is buffered (an interruption)."""
        self.playing_until = min(self.playing_until, now)
        self.audible_until = min(self.audible_until, now)

    def is_playing(self, now: float) -> bool:
        """Whether the speaker is still producing interviewer speech."""
        return now < self.audible_until

    def quiet_for(self, now: float) -> float:
        """Seconds since the interviewer's speech stopped playing (negative while it plays)."""
        return now - self.audible_until


def is_audible(pcm: bytes, threshold: int = SILENCE_PEAK) -> bool:
    """Peak-amplitude test, the same rule as pipecat.audio.utils.is_silence."""
    samples = np.frombuffer(pcm[: len(pcm) - len(pcm) % 2], dtype="<i2")
    return bool(samples.size) and int(np.abs(samples.astype(np.int32)).max()) > threshold


class ConversationRecorder:
    """Both sides of the call on one timeline (seconds since the microphone started)."""

    def __init__(self) -> None:
        self._said = bytearray()
        self._heard: list[tuple[float, np.ndarray, int]] = []
        self.heard_sample_rate: int | None = None

    def add_said(self, chunk: bytes) -> None:
        """Append one microphone chunk (the microphone is contiguous by construction)."""
        self._said.extend(chunk)

    def add_heard(self, start: float, pcm: bytes, sample_rate: int, num_channels: int = 1) -> None:
        """Place interviewer audio where the speaker plays it."""
        samples = np.frombuffer(pcm[: len(pcm) - len(pcm) % 2], dtype="<i2")
        if num_channels > 1:
            samples = samples[: len(samples) - len(samples) % num_channels]
            samples = samples.reshape(-1, num_channels).mean(axis=1).astype(np.int16)
        if self.heard_sample_rate is None:
            self.heard_sample_rate = sample_rate
        self._heard.append((start, samples, sample_rate))

    def cut_heard_after(self, t: float) -> None:
        """Drop interviewer audio that was buffered but never played (interruption at ``t``)."""
        kept: list[tuple[float, np.ndarray, int]] = []
        for start, samples, rate in self._heard:
            if start >= t:
                continue
            keep = int((t - start) * rate)
            kept.append((start, samples[:keep], rate))
        self._heard = kept

    @property
    def said_seconds(self) -> float:
        """Length of the microphone recording."""
        return len(self._said) / 2 / MIC_SAMPLE_RATE

    def heard_track(self, rate: int) -> np.ndarray:
        """Interviewer audio rendered on the timeline at ``rate``."""
        end = max((s + len(x) / r for s, x, r in self._heard), default=0.0)
        track = np.zeros(int(np.ceil(end * rate)), dtype=np.int32)
        for start, samples, src_rate in self._heard:
            data = resample(samples, src_rate, rate).astype(np.int32)
            i = round(start * rate)
            track[i : i + len(data)] += data[: max(0, len(track) - i)]
        return np.clip(track, -32768, 32767).astype(np.int16)

    def said_track(self, rate: int) -> np.ndarray:
        """Candidate microphone audio at ``rate``."""
        return resample(np.frombuffer(bytes(self._said), dtype="<i2"), MIC_SAMPLE_RATE, rate)

    def write(self, directory: str | Path) -> dict[str, Path]:
        """Write heard.wav, said.wav and conversation.wav (stereo: candidate left, interviewer right)."""
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        rate = self.heard_sample_rate or 24000
        heard = self.heard_track(rate)
        said = self.said_track(rate)
        stereo = np.zeros((max(len(heard), len(said)), 2), dtype=np.int16)
        stereo[: len(said), 0] = said
        stereo[: len(heard), 1] = heard
        paths = {"heard": out / "heard.wav", "said": out / "said.wav", "conversation": out / "conversation.wav"}
        write_wav(paths["heard"], heard, rate, 1)
        write_wav(paths["said"], np.frombuffer(bytes(self._said), dtype="<i2"), MIC_SAMPLE_RATE, 1)
        write_wav(paths["conversation"], stereo, rate, 2)
        return paths


def resample(samples: np.ndarray, src_rate: int, dst_rate: int) -> np.ndarray:
    """Linear-interpolation resampling; good enough for a listening copy of the call."""
    if src_rate == dst_rate or len(samples) == 0:
        return samples.astype(np.int16, copy=False)
    n_out = round(len(samples) * dst_rate / src_rate)
    positions = np.arange(n_out) * (src_rate / dst_rate)
    return np.interp(positions, np.arange(len(samples)), samples.astype(np.float64)).astype(np.int16)


def write_wav(path: Path, samples: np.ndarray, sample_rate: int, channels: int) -> None:
    """16-bit PCM WAV; ``samples`` is (n,) for mono or (n, channels) interleaved."""
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(2)
        wav.setframerate(sample_rate)
        wav.writeframes(np.ascontiguousarray(samples, dtype="<i2").tobytes())
