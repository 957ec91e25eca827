"""Silero VAD that remembers when it last heard a voice, and hears a first word after digital silence.

Why (1): Pipecat's VAD reports speech (``VADUserStartedSpeakingFrame``) only after
``start_secs`` of it, so a turn-stop strategy that ends a turn after W seconds of silence
cannot know whether the candidate began speaking again in the last ``start_secs`` — it
either waits ``start_secs`` more on every turn (0.2 s of every reply) or risks ending a
turn over the first syllable of the next sentence. Pipecat 1.14 exposes no "voice heard
recently" query; the per-window confidence is the public ``voice_confidence`` method,
so this subclass notes when every window that counts as voice was — in audio time (seconds
of audio analysed), the clock the turn-stop strategy times its waits on, so a backlog of
frames on a loaded machine cannot make a voice look older than it is.

Why (2): Pipecat's volume floor (``VADParams.min_volume``) compares an exponentially
smoothed loudness (factor 0.2 per 32 ms window) that climbs from 0 after digital silence —
the zeros the echo gate writes over the interviewer's voice, or a client that sends them.
A short first word followed by a comma pause ("Wait, …", "Right, so …": ~250 ms of voice)
ends before the smoothed loudness reaches 0.6, so the start count resets and the VAD starts
on the next word: barge-ins took ~1 s instead of ~0.3 s. A real noise floor keeps the smoothing
up (at −70 dBFS the words were heard in 0.26–0.34 s in one rendering, not in every one), so the ramp after
zeros is the case this fixes. For
:data:`RAMP_AFTER_SILENCE_SECS` after a window of zeros the floor is
``min_volume_after_silence`` instead (the echo gate, which only passes loud runs over the
interviewer, already did the volume vetting there). Pipecat has no per-window floor hook, so
the floor is set on this analyzer's own ``params`` object before each window is judged
(``voice_confidence`` runs before the volume check; ``set_params`` would reset the VAD state).
"""

from __future__ import annotations

from turn_taking.shared_silero import SharedSileroVADAnalyzer

RAMP_AFTER_SILENCE_SECS = 0.5  # the smoothed loudness is within 3 % of the real one after ~15 windows


class SileroVADWithActivity(SharedSileroVADAnalyzer):
    """Silero (one ONNX session per process) plus :meth:`heard_voice_within` and a lower floor right after digital silence."""

    def __init__(self, *args, min_volume_after_silence: float | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._audio_analysed = 0.0  # seconds of audio judged so far
        self._last_voiced = float("-inf")  # audio time of the end of the last window judged voice
        self._min_volume = self.params.min_volume
        self._min_volume_after_silence = min_volume_after_silence
        self._audio_since_silence = float("inf")  # seconds of audio since the last all-zero window
        self._zeros = b""

    def voice_confidence(self, buffer: bytes) -> float:
        if self._min_volume_after_silence is not None:
            self._lower_floor_after_silence(buffer, self._min_volume_after_silence)
        confidence = super().voice_confidence(buffer)
        self._audio_analysed += len(buffer) / (2 * self.sample_rate)
        if confidence >= self.params.confidence:
            self._last_voiced = self._audio_analysed
        return confidence

    def _lower_floor_after_silence(self, window: bytes, floor: float) -> None:
        if len(self._zeros) != len(window):
            self._zeros = bytes(len(window))
        if window == self._zeros:
            self._audio_since_silence = 0.0
        else:
            self._audio_since_silence += len(window) / (2 * self.sample_rate)
        ramping = self._audio_since_silence < RAMP_AFTER_SILENCE_SECS
        self.params.min_volume = floor if ramping else self._min_volume

    def heard_voice_within(self, secs: float) -> bool:
        """Whether any audio window of the last ``secs`` seconds of audio judged sounded like a voice."""
        return self._audio_analysed - self._last_voiced < secs
