"""The simulated candidate's voice: text -> 16-bit mono PCM at any sample rate.

One entry point (`default_candidate_synthesizer`) so every client, test and benchmark
speaks with the same voice, whatever engine is behind it.
"""

from __future__ import annotations

from typing import Protocol


class Synthesizer(Protocol):
    """Anything that turns text into 16-bit mono PCM at ``sample_rate``."""

    def synthesize(self, text: str, sample_rate: int) -> bytes: ...


def default_candidate_synthesizer() -> Synthesizer:
    """The voice the simulated candidate speaks with."""
    from services.espeak import EspeakSynthesizer

    return EspeakSynthesizer()
