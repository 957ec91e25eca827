"""Silero VAD that remembers when it last heard a voice.

Why: Pipecat's VAD reports speech (``VADUserStartedSpeakingFrame``) only after
``start_secs`` of it, so a turn-stop strategy that ends a turn after W seconds of silence
cannot know whether the candidate began speaking again in the last ``start_secs`` — it
either waits ``start_secs`` more on every turn (0.2 s of every reply) or risks ending a
turn over the first syllable of the next sentence. Pipecat 1.14 exposes no "voice heard
recently" query; the per-window confidence is the public ``voice_confidence`` method,
so this subclass notes the time of every window that counts as voice.
"""

from __future__ import annotations

import time

from pipecat.audio.vad.silero import SileroVADAnalyzer


class SileroVADWithActivity(SileroVADAnalyzer):
    """``SileroVADAnalyzer`` plus :meth:`heard_voice_within`."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._last_voiced = float("-inf")  # monotonic time of the last window judged voice

    def voice_confidence(self, buffer: bytes) -> float:
        confidence = super().voice_confidence(buffer)
        if confidence >= self.params.confidence:
            self._last_voiced = time.monotonic()
        return confidence

    def heard_voice_within(self, secs: float) -> bool:
        """Whether any audio window of the last ``secs`` seconds sounded like a voice."""
        return time.monotonic() - self._last_voiced < secs
