"""The echo the microphone should hear, predicted from the audio the bot itself sent.

What Pipecat 1.14 lacks: no echo reference path at all (no acoustic echo canceller; browsers
cancel echo only when the client enables WebRTC AEC, phones never for us). The echo gate used
to follow a peak of what it heard while the bot spoke, and that cannot tell the bot's echo
from a soft candidate: on a clean line the candidate's own words, silenced while undecided,
became "the echo" and raised the bar above their voice (0 of 176 frames of a spoken answer
passed).

Here the estimate compares the microphone with the bot's OWN output:

* :class:`OutputEnvelope` keeps the RMS of every audio frame the output transport sent, in
  20 ms bins on the session clock (:class:`EchoOutputTap` after ``transport.output()`` feeds
  it: the transport pushes each frame on after its real-time write, i.e. as it is sent);
* :class:`EchoEstimate` predicts the echo of a microphone frame at time ``t`` as
  ``coupling x output level around t - delay``. Every ``UPDATE_SECS`` it looks at the last
  ``HISTORY_SECS`` of microphone frames heard while the bot was audible and, over delays
  0-0.6 s, finds the one where the microphone's log energy follows the output's best. Only
  when it does follow (correlation >= ``TRACK_CORRELATION``: the microphone tracks the
  output's syllables) is the coupling set, to the median microphone/output ratio there. When
  it does not (a clean line, or the candidate talking) the coupling can only go **down**, to a
  low quantile of that ratio: a quiet microphone under loud bot output proves the echo is
  small, and the candidate's own voice, which does not follow the bot's envelope, can never
  teach it that the echo is loud.

Until the line was heard the coupling is 1 (the echo as loud as the bot's own output) and the
delay unknown (the loudest output of the whole delay range counts), so nothing but a
candidate louder than the bot's own voice passes before the estimate is learned.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import numpy as np
from pipecat.frames.frames import Frame, OutputAudioRawFrame
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor

BIN_SECS = 0.02
MAX_DELAY_SECS = 0.6  # server send -> listener's speaker -> microphone -> server (jitter buffers included)
JITTER_BINS = 2  # the output level around the delay: +/- 40 ms (frame alignment, reverb)
HISTORY_SECS = 3.0
UPDATE_SECS = 0.5
ENVELOPE_SECS = HISTORY_SECS + MAX_DELAY_SECS + 1.0
REF_FLOOR = 0.005  # output RMS below this is a pause: it says nothing about the coupling
MIN_LOUD_FRAMES = 25  # 0.5 s of loud output in the history before anything is learned
TRACK_CORRELATION = 0.6
INITIAL_COUPLING = 1.0
BOUND_QUANTILE = 25  # percent: without tracking, the coupling is at most this quantile of mic/output
LOG_FLOOR = 1e-4
RESIDUAL_MARGIN = 4.0  # after the canceller: this many times the echo it leaves (its LEAK_QUANTILE) ...
LEAK_QUANTILE = 90  # percent of echo frames
MIN_LEAK = 0.05  # ... and never less than 4 x 5 % of the predicted echo (-14 dB: the canceller's weakest moments)
LEAK_LEARN_FRAMES = (
    500  # echo frames counted per update (each about 6 times): ~1.7 s of echo heard before the leak counts
)
LEAK_MIC_FLOOR = 0.005  # microphone frames this loud under loud output measure the canceller's leak

_PCM16 = np.dtype("<i2")
_FULL_SCALE = 32768.0


def pcm16_rms(audio: bytes) -> float:
    """RMS of 16-bit little-endian PCM on full scale = 1.0 (all channels together)."""
    samples = np.frombuffer(audio, dtype=_PCM16, count=len(audio) // 2).astype(np.int64)
    if samples.size == 0:
        return 0.0
    # Exact integer energy: faster than a float32 BLAS dot on 160-320 samples.
    return (int(np.dot(samples, samples)) / samples.size) ** 0.5 / _FULL_SCALE


class OutputEnvelope:
    """RMS of the bot's sent audio in 20 ms bins (bin index = clock time / BIN_SECS)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._bins: dict[int, float] = {}
        self._order: deque[int] = deque()
        self.frames = 0

    def sent(self, rms: float, seconds: float, *, at: float | None = None) -> None:
        """A frame of ``seconds`` at level ``rms`` finished sending at ``at`` (now)."""
        end = self._clock() if at is None else at
        first, last = int((end - seconds) / BIN_SECS), int(end / BIN_SECS)
        for index in range(first, max(first, last - 1) + 1):
            if index not in self._bins:
                self._order.append(index)
            self._bins[index] = max(self._bins.get(index, 0.0), rms)
        self.frames += 1
        horizon = int((end - ENVELOPE_SECS) / BIN_SECS)
        while self._order and self._order[0] < horizon:
            self._bins.pop(self._order.popleft(), None)

    def level(self, start: float, end: float) -> float:
        """The loudest output sent between ``start`` and ``end`` (0 when nothing was)."""
        first, last = int(start / BIN_SECS), int(end / BIN_SECS)
        return max((self._bins.get(i, 0.0) for i in range(first, last + 1)), default=0.0)

    def levels(self, times: np.ndarray, delays: np.ndarray, spread: int) -> np.ndarray:
        """``[delay, frame]`` -> the loudest output within ``spread`` bins of ``times - delay`` (vectorised)."""
        index = np.floor((times[None, :] - delays[:, None]) / BIN_SECS).astype(np.int64)
        base = int(index.min()) - spread
        bins = np.array([self._bins.get(i, 0.0) for i in range(base, int(index.max()) + spread + 1)])
        local = index - base
        return np.max([bins[local + k] for k in range(-spread, spread + 1)], axis=0)


class EchoEstimate:
    """echo(t) = coupling x output level near t - delay, learned from the microphone only where it follows the output."""

    def __init__(self, envelope: OutputEnvelope) -> None:
        self.envelope = envelope
        self.coupling = INITIAL_COUPLING
        self.delay: float | None = None  # unknown until the microphone was seen following the output
        self.correlation = 0.0
        self._history: deque[tuple[float, float, float]] = deque()  # (time, microphone RMS, residual RMS) while audible
        self._next_update = 0.0
        self.leak = 1.0  # residual / microphone on the bot's echo after the canceller (1: it cancels nothing yet)
        self._leak_frames = 0  # loud microphone frames under loud output seen so far (the canceller's training)

    @property
    def has_reference(self) -> bool:
        return self.envelope.frames > 0

    def predicted(self, t: float) -> float:
        """The echo's RMS expected in a microphone frame at ``t``."""
        if self.delay is None:
            return self.coupling * self.envelope.level(t - MAX_DELAY_SECS, t)
        jitter = JITTER_BINS * BIN_SECS
        return self.coupling * self.envelope.level(t - self.delay - jitter, t - self.delay + jitter)

    def residual_threshold(self, t: float) -> float:
        """Residual RMS (after the echo canceller) that cannot be the bot's echo: ``RESIDUAL_MARGIN`` x its leak."""
        return RESIDUAL_MARGIN * self.leak * self.predicted(t)

    def heard(self, t: float, rms: float, residual: float | None = None) -> None:
        """A microphone frame at ``t`` while the bot was audible (candidate or not: the estimate tells them apart)."""
        self._history.append((t, rms, rms if residual is None else residual))
        while self._history and self._history[0][0] < t - HISTORY_SECS:
            self._history.popleft()
        if t >= self._next_update:
            self._next_update = t + UPDATE_SECS
            self._update()

    def _update(self) -> None:
        times = np.array([h[0] for h in self._history])
        mic = np.array([h[1] for h in self._history])
        residual = np.array([h[2] for h in self._history])
        delays = np.arange(0.0, MAX_DELAY_SECS + 1e-9, BIN_SECS)
        refs = self.envelope.levels(times, delays, spread=1)
        loud = refs.max(axis=0) > REF_FLOOR
        if loud.sum() < MIN_LOUD_FRAMES:
            return
        log_mic = np.log(np.maximum(mic[loud], LOG_FLOOR))
        best, best_corr = 0, -1.0
        for i, ref in enumerate(refs):
            log_ref = np.log(np.maximum(ref[loud], LOG_FLOOR))
            corr = _correlation(log_mic, log_ref)
            if corr > best_corr:
                best, best_corr = i, corr
        self.correlation = round(best_corr, 3)
        ref = refs[best][loud]
        voiced = ref > REF_FLOOR
        ratios = mic[loud][voiced] / ref[voiced]
        if ratios.size < MIN_LOUD_FRAMES:
            return
        echoed = mic[loud][voiced] > LEAK_MIC_FLOOR
        self._leak_frames += int(echoed.sum())
        if (
            self._leak_frames >= LEAK_LEARN_FRAMES
        ):  # what the canceller leaves of loud microphone frames under loud output
            leaks = residual[loud][voiced][echoed] / mic[loud][voiced][echoed]
            self.leak = max(MIN_LEAK, float(np.percentile(leaks, LEAK_QUANTILE))) if leaks.size else self.leak
        if best_corr >= TRACK_CORRELATION:
            self.coupling, self.delay = float(np.median(ratios)), float(delays[best])
        else:
            self.coupling = min(self.coupling, float(np.percentile(ratios, BOUND_QUANTILE)))


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    sa, sb = float(a.std()), float(b.std())
    if sa < 1e-9 or sb < 1e-9:
        return 0.0
    value = float(np.mean((a - a.mean()) * (b - b.mean())) / (sa * sb))
    return 0.0 if math.isnan(value) else value


class EchoOutputTap(FrameProcessor):
    """After ``transport.output()``: tells the envelope about every audio frame the bot sent."""

    def __init__(self, envelope: OutputEnvelope, canceller: EchoCanceller | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._envelope = envelope
        self._canceller = canceller

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if isinstance(frame, OutputAudioRawFrame) and direction == FrameDirection.DOWNSTREAM and frame.audio:
            channels = max(1, frame.num_channels)
            self._envelope.sent(pcm16_rms(frame.audio), len(frame.audio) / (2 * channels * max(1, frame.sample_rate)))
            if self._canceller is not None:
                self._canceller.sent(frame.audio, frame.sample_rate, frame.num_channels)
        await self.push_frame(frame, direction)


class EchoCanceller:
    """WebRTC's echo canceller (AEC3, through the LiveKit SDK Pipecat's livekit extra installs) on the gate's decision path.

    Render = the audio the bot sent, resampled to the microphone's rate; capture = the
    microphone. Both go in as 10 ms frames in step with the microphone's clock (a render
    chunk per capture chunk, silence when the bot sent nothing, catching up when the sent
    audio runs ahead), so the render never lags its echo. The residual only *informs* the
    gate (how much of a frame is not the bot's echo); the audio the VAD and the recogniser
    get is the microphone's own.
    """

    def __init__(self) -> None:
        self._rate = 0
        self._apm: Any = None
        self._render: deque[np.ndarray] = deque()  # 10 ms chunks at the capture rate
        self._pending = np.zeros(0, dtype=np.int16)
        self.available = _livekit_apm() is not None

    def sent(self, audio: bytes, rate: int, channels: int) -> None:
        """Audio the bot sent (any rate): queued as render for the next capture frames."""
        if not self._rate or not self.available or channels != 1 or rate <= 0:
            return
        samples = np.frombuffer(audio, dtype=_PCM16, count=len(audio) // 2)
        if rate != self._rate and samples.size:
            n = round(samples.size * self._rate / rate)
            samples = np.interp(np.arange(n) * (rate / self._rate), np.arange(samples.size), samples).astype(np.int16)
        buffered = np.concatenate([self._pending, samples])
        step = self._rate // 100
        whole = buffered.size // step * step
        self._render.extend(buffered[i : i + step] for i in range(0, whole, step))
        self._pending = buffered[whole:]
        while len(self._render) > MAX_RENDER_CHUNKS:
            self._render.popleft()  # a burst beyond what any echo path holds

    def residual(self, audio: bytes, rate: int) -> bytes | None:
        """The microphone frame with the bot's echo cancelled (None when not possible: stereo, odd sizes, no SDK)."""
        if not self.available:
            return None
        if rate != self._rate:
            apm_class = _livekit_apm()
            self._apm, self._rate = apm_class(echo_cancellation=True, high_pass_filter=True), rate
            self._render.clear()
            self._pending = np.zeros(0, dtype=np.int16)
        step = rate // 100
        samples = np.frombuffer(audio, dtype=_PCM16, count=len(audio) // 2)
        if samples.size == 0 or samples.size % step:
            return None
        from livekit import rtc

        out = bytearray()
        for i in range(0, samples.size, step):
            extra = max(0, len(self._render) - RENDER_LEAD_CHUNKS)
            for _ in range(1 + min(extra, 1)):  # catch up one chunk at a time when the sent audio ran ahead
                chunk = self._render.popleft() if self._render else np.zeros(step, dtype=np.int16)
                self._apm.process_reverse_stream(rtc.AudioFrame(chunk.tobytes(), rate, 1, step))
            frame = rtc.AudioFrame(samples[i : i + step].tobytes(), rate, 1, step)
            self._apm.process_stream(frame)
            out += bytes(frame.data.cast("B"))
        return bytes(out)


MAX_RENDER_CHUNKS = 100  # 1 s of sent audio not yet matched by the microphone
RENDER_LEAD_CHUNKS = 4  # sent audio up to 40 ms ahead of the microphone is normal (frame sizes)


def _livekit_apm() -> Any:
    try:
        from livekit.rtc import AudioProcessingModule
    except ImportError:  # the SDK is part of pipecat-ai[livekit]; without it the gate uses the energy estimate alone
        return None
    return AudioProcessingModule
