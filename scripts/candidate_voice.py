"""The simulated candidate's voice: text -> 16-bit mono PCM at any sample rate.

A neural voice (Piper, the bundled en_US-joe-medium) so that recognition, turn-taking
and barge-in are measured on speech that resembles a person. The interviewer speaks
with the same voice model, so the candidate is told apart by its delivery: a slower,
more variable pace and a pitch raised by ~10 % (synthesised audio replayed faster,
then slowed back by Piper's length scale). One entry point
(`default_candidate_synthesizer`) so every client, test and benchmark sounds the same;
`candidate_synthesizer("brisk")` is a second, faster delivery for corpora spoken in two styles.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any, Protocol

import numpy as np
import soxr

PITCH_FACTOR = 1.1  # replay rate: pitch and tempo up 10 % ...
LENGTH_SCALE = 1.25  # ... and Piper's pace down 25 %: net ~12 % slower than the interviewer
NOISE_SCALE = 0.75  # more variation in delivery than Piper's default 0.667
NOISE_W_SCALE = 0.9  # more variation in phoneme length than the default 0.8


@dataclass(frozen=True)
class Delivery:
    """How the candidate speaks: replay rate (pitch and tempo), Piper's pace and its two variations."""

    pitch_factor: float
    length_scale: float
    noise_scale: float
    noise_w_scale: float


MEASURED = Delivery(PITCH_FACTOR, LENGTH_SCALE, NOISE_SCALE, NOISE_W_SCALE)  # the default
BRISK = Delivery(pitch_factor=1.15, length_scale=0.95, noise_scale=0.7, noise_w_scale=0.8)  # ~20 % shorter, steadier
DELIVERIES: dict[str, Delivery] = {"measured": MEASURED, "brisk": BRISK}


class Synthesizer(Protocol):
    """Anything that turns text into 16-bit mono PCM at ``sample_rate``."""

    def synthesize(self, text: str, sample_rate: int) -> bytes: ...


class PiperCandidateVoice:
    """Piper with the candidate's delivery; thread-safe, results cached per (text, rate)."""

    def __init__(self, voice: Any | None = None, *, steady: bool = False, delivery: Delivery = MEASURED) -> None:
        """``steady``: no random variation (the same audio every run) - for tests of a recogniser."""
        from piper import SynthesisConfig

        self._voice = voice if voice is not None else _load_voice()
        self._delivery = delivery
        noise, noise_w = (0.0, 0.0) if steady else (delivery.noise_scale, delivery.noise_w_scale)
        self._config = SynthesisConfig(length_scale=delivery.length_scale, noise_scale=noise, noise_w_scale=noise_w)
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, int], bytes] = {}

    def synthesize(self, text: str, sample_rate: int) -> bytes:
        key = (text, sample_rate)
        with self._lock:
            if key not in self._cache:
                self._cache[key] = self._render(text, sample_rate)
            return self._cache[key]

    def _render(self, text: str, sample_rate: int) -> bytes:
        chunks = [c.audio_int16_array for c in self._voice.synthesize(text, syn_config=self._config)]
        if not chunks:
            return b""
        audio = trim_silence(np.concatenate(chunks).astype(np.float32) / 32768.0, self._voice.config.sample_rate)
        source_rate = self._voice.config.sample_rate * self._delivery.pitch_factor
        out = soxr.resample(audio, source_rate, sample_rate)
        return (np.clip(out, -1.0, 1.0) * 32767).astype("<i2").tobytes()


def trim_silence(audio: np.ndarray, sample_rate: int, threshold: float = 0.01, keep_secs: float = 0.03) -> np.ndarray:
    """Drop Piper's leading/trailing silence (~0.2 s each) so a script's pauses are the real gaps."""
    loud = np.flatnonzero(np.abs(audio) > threshold)
    if loud.size == 0:
        return audio[:0]
    keep = int(keep_secs * sample_rate)
    return audio[max(0, loud[0] - keep) : loud[-1] + keep + 1]


def _load_voice() -> Any:
    from piper import PiperVoice

    from services.model_files import DEFAULT_PIPER_VOICE, resolve_piper_voice

    files = resolve_piper_voice(DEFAULT_PIPER_VOICE)
    return PiperVoice.load(files.model, config_path=files.config)


@lru_cache(maxsize=1)
def default_candidate_synthesizer() -> PiperCandidateVoice:
    """The voice the simulated candidate speaks with (one per process)."""
    return PiperCandidateVoice()


@cache
def candidate_synthesizer(style: str) -> PiperCandidateVoice:
    """The candidate's voice in a delivery style, "measured" (the default voice) or "brisk"; one per style."""
    if style not in DELIVERIES:
        raise ValueError(f"unknown delivery style {style!r}; known: {sorted(DELIVERIES)}")
    default = default_candidate_synthesizer()
    if style == "measured":
        return default
    return PiperCandidateVoice(default._voice, delivery=DELIVERIES[style])  # one Piper model shared by both
