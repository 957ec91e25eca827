"""Small pieces the emulator and failover tests share: fast engines, audio, frame filters."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
from pipecat.frames.frames import Frame, InputAudioRawFrame, TextFrame, TTSAudioRawFrame, TTSTextFrame

RATE = 16000


def tone(seconds: float, rate: int = RATE, amplitude: int = 6000) -> bytes:
    t = np.arange(int(seconds * rate)) / rate
    return (amplitude * np.sin(2 * np.pi * 220 * t)).astype(np.int16).tobytes()


def audio_frames(pcm: bytes, rate: int = RATE, chunk_secs: float = 0.02) -> list[InputAudioRawFrame]:
    step = int(rate * chunk_secs) * 2
    return [InputAudioRawFrame(pcm[i : i + step], rate, 1) for i in range(0, len(pcm), step)]


def fixed_transcriber(*texts: str):
    """A Transcriber that answers with `texts` in turn (then the last one again)."""
    answers = list(texts)

    def transcribe(audio: np.ndarray, prompt: str | None) -> str:
        return answers.pop(0) if len(answers) > 1 else answers[0]

    return transcribe


def silent_synthesizer(seconds_per_word: float = 0.05, rate: int = 22050):
    """A Synthesizer that returns quiet audio as long as the text (no Piper needed)."""

    def synthesize(text: str) -> tuple[bytes, int]:
        n = int(max(1, len(text.split())) * seconds_per_word * rate)
        return (np.full(n, 100, dtype=np.int16)).tobytes(), rate

    return synthesize


def of_type(frames: Iterable[Frame], kind: type | tuple[type, ...]) -> list:
    return [f for f in frames if isinstance(f, kind)]


def spoken_words(frames: Sequence[Frame]) -> str:
    return " ".join(f.text.strip() for f in of_type(frames, TTSTextFrame))


def text_of(frames: Sequence[Frame], kind: type = TextFrame) -> str:
    return "".join(f.text for f in of_type(frames, kind))


def audio_secs(frames: Sequence[Frame]) -> float:
    return sum(len(f.audio) / 2 / f.sample_rate for f in of_type(frames, TTSAudioRawFrame))
