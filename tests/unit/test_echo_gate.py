"""EchoGate: echo silenced while the bot is audible, barge-in and normal speech pass.

Time in these tests is a timeline stamped on each frame (``metadata["t"]``): the
test gate's clock is the stamp of the frame it is processing, so the tail is
deterministic however fast the pipeline runs. Bot speech reaches the gate the way
it does in the live pipeline: ``BotVoice`` (a stand-in for the output transport,
placed after the gate) broadcasts Bot{Started,Stopped}SpeakingFrame, and the gate
sees the upstream copy.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st
from pipecat.frames.frames import (
    BotStartedSpeakingFrame,
    BotStoppedSpeakingFrame,
    CancelFrame,
    EndFrame,
    Frame,
    InputAudioRawFrame,
    InterruptionFrame,
    SystemFrame,
    UserStartedSpeakingFrame,
)
from pipecat.pipeline.pipeline import Pipeline
from pipecat.pipeline.worker import PipelineParams
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor
from pipecat.tests.utils import SleepFrame, run_test

from bots.session_record import SessionRecord
from interview.config import EchoGateSettings
from processors.echo_gate import EchoGate
from processors.echo_gate_audio import ORIGINAL_AUDIO_KEY
from processors.echo_gate_rule import DURATION_EPS
from processors.echo_reference import pcm16_rms

# The fixed rule: cooldown 1.5 s, thresholds 0.01 / 0.03 / 0.05, barge-in 0.2 s (echo tracking has its own tests).
SETTINGS = EchoGateSettings(echo_tracking=False)
RATES = [8000, 16000]


# --- audio ---------------------------------------------------------------------------------


def tone(secs: float, rate: int, rms: float, *, channels: int = 1, hz: float = 440.0) -> bytes:
    """A sine at the given RMS (full scale = 1.0)."""
    t = np.arange(round(secs * rate)) / rate
    signal = np.sin(2 * np.pi * hz * t) * rms * np.sqrt(2)
    return _pcm(np.repeat(signal, channels))


def speech_like(secs: float, rate: int, rms: float, seed: int = 1) -> bytes:
    """Synthetic voiced speech Silero accepts: random 120-260 ms syllables of moving formants.

    Additive synthesis (harmonics of a drifting f0 weighted by three formant
    resonances), syllable envelopes with dips between them, a fricative burst at
    each syllable end. Overall RMS is ``rms``; frame RMS peaks at about 2x that.
    """
    rng = np.random.default_rng(seed)
    vowels = np.array(
        [(730, 1090, 2440), (270, 2290, 3010), (300, 870, 2240), (530, 1840, 2480),
         (570, 840, 2410), (440, 1020, 2240), (660, 1720, 2410), (390, 1990, 2550)]
    )  # fmt: skip
    n = int(secs * rate)
    t = np.arange(n) / rate
    bounds = np.cumsum(rng.uniform(0.12, 0.26, size=int(secs / 0.1) + 2))
    syllable = np.searchsorted(bounds, t)
    starts = np.concatenate([[0.0], bounds])[syllable]
    pos = (t - starts) / (bounds[syllable] - starts)
    chosen = vowels[rng.integers(0, len(vowels), size=len(bounds) + 1)]
    glide = np.clip((pos - 0.3) / 0.7, 0, 1)[:, None]
    formants = chosen[syllable] * (1 - glide) + chosen[np.minimum(syllable + 1, len(chosen) - 1)] * glide
    f0 = 120 + 30 * np.exp(-t / secs) + 15 * np.sin(2 * np.pi * rng.uniform(2, 4) * t)
    phase = 2 * np.pi * np.cumsum(f0) / rate
    out = np.zeros(n)
    for k in range(1, 32):
        fk = k * f0
        amp = sum(1.0 / (j + 1) / (1 + ((fk - formants[:, j]) / bw) ** 2) for j, bw in enumerate((90, 110, 150)))
        out += np.where(fk < rate / 2 - 300, amp / k * np.sin(k * phase), 0)
    envelope = np.sin(np.pi * np.clip(pos / 0.85, 0, 1)) ** 0.6
    out = out * envelope + 0.05 * np.std(out) * rng.standard_normal(n) * envelope
    hiss = np.diff(rng.standard_normal(n + 1))
    out += 0.3 * np.std(out) * hiss * (pos > 0.85)
    return _pcm(out / np.sqrt(np.mean(out**2)) * rms)


def _pcm(signal: np.ndarray) -> bytes:
    return (np.clip(signal, -1, 1) * 32767).astype("<i2").tobytes()


def chunks(audio: bytes, rate: int, *, ms: int = 20, channels: int = 1) -> list[bytes]:
    size = rate * ms // 1000 * 2 * channels
    return [audio[i : i + size] for i in range(0, len(audio) - size + 1, size)]


# --- timeline and test processors -------------------------------------------------------------


@dataclass
class BotSays(SystemFrame):
    """Test-only: tells BotVoice that the bot became audible (True) or silent (False)."""

    audible: bool = True


@dataclass
class BotOutput(SystemFrame):
    """Test-only: the output transport sent this audio (the gate's echo reference), at the frame's stamp."""

    audio: bytes = b""
    seconds: float = 0.0
    rate: int = 16000


@dataclass
class Playback(SystemFrame):
    """Test-only: the gate calls playback_started()/playback_finished() when it gets this."""

    started: bool = True


class BotVoice(FrameProcessor):
    """Stand-in for the output transport: broadcasts Bot{Started,Stopped}SpeakingFrame."""

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if not isinstance(frame, BotSays):
            await self.push_frame(frame, direction)
            return
        cls = BotStartedSpeakingFrame if frame.audible else BotStoppedSpeakingFrame
        down, up = cls(), cls()
        down.metadata["t"] = up.metadata["t"] = frame.metadata["t"]
        await self.push_frame(down, FrameDirection.DOWNSTREAM)
        await self.push_frame(up, FrameDirection.UPSTREAM)


class StampedGate(EchoGate):
    """EchoGate whose clock is the timeline stamp of the frame being processed."""

    def __init__(self, settings: EchoGateSettings = SETTINGS, **kwargs) -> None:
        self.now = 0.0
        super().__init__(settings, clock=lambda: self.now, **kwargs)

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        self.now = frame.metadata.get("t", self.now)
        if isinstance(frame, BotOutput):
            self.envelope.sent(pcm16_rms(frame.audio), frame.seconds)
            self.canceller.sent(frame.audio, frame.rate, 1)
            return
        if isinstance(frame, Playback):
            if frame.started:
                self.playback_started()
            else:
                self.playback_finished()
        await super().process_frame(frame, direction)


@dataclass
class Timeline:
    """Builds the frames to send, stamping each with the time it happens."""

    rate: int = 16000
    channels: int = 1
    t: float = 0.0
    frames: list[Frame] = field(default_factory=list)
    audio: list[InputAudioRawFrame] = field(default_factory=list)

    def _stamp(self, frame: Frame) -> Frame:
        frame.metadata["t"] = self.t
        return frame

    def bot(self, audible: bool) -> Timeline:
        # BotSays travels down, BotVoice sends the Bot* frame back up: let it land first.
        self.frames += [self._stamp(BotSays(audible=audible)), SleepFrame(0.05)]
        return self

    def playback(self, started: bool) -> Timeline:
        self.frames.append(self._stamp(Playback(started=started)))
        return self

    def wait(self, secs: float) -> Timeline:
        self.t += secs
        return self

    def duplex(self, sent: bytes, heard: bytes) -> Timeline:
        """The bot sends ``sent`` while the microphone hears ``heard`` (same rate, mono; 20 ms chunks in step)."""
        for out, mic in zip(chunks(sent, self.rate), chunks(heard, self.rate)):
            seconds = len(mic) / (2 * self.rate)
            self.t += seconds
            self.frames.append(self._stamp(BotOutput(audio=out, seconds=seconds, rate=self.rate)))
            frame = self._stamp(InputAudioRawFrame(audio=mic, sample_rate=self.rate, num_channels=1))
            self.frames.append(frame)
            self.audio.append(frame)
        return self

    def say(self, audio: bytes, *, ms: int = 20) -> Timeline:
        for chunk in chunks(audio, self.rate, ms=ms, channels=self.channels):
            frame = self._stamp(InputAudioRawFrame(audio=chunk, sample_rate=self.rate, num_channels=self.channels))
            self.frames.append(frame)
            self.audio.append(frame)
            self.t += len(chunk) / (2 * self.channels * self.rate)
        return self


async def run_gate(gate: EchoGate, timeline: Timeline) -> tuple[list[InputAudioRawFrame], list[Frame], list[Frame]]:
    """Send the timeline through gate -> BotVoice; return (audio out, all down, all up)."""
    down, up = await run_test(Pipeline([gate, BotVoice()]), frames_to_send=timeline.frames)
    audio = [f for f in down if isinstance(f, InputAudioRawFrame)]
    assert len(audio) == len(timeline.audio)
    for sent, got in zip(timeline.audio, audio):
        assert (len(got.audio), got.sample_rate, got.num_channels) == (
            len(sent.audio),
            sent.sample_rate,
            sent.num_channels,
        )
    return audio, list(down), list(up)


def is_silent(frame: InputAudioRawFrame) -> bool:
    return not any(frame.audio)


def passed_unchanged(sent: InputAudioRawFrame, got: InputAudioRawFrame) -> bool:
    return got.audio == sent.audio and ORIGINAL_AUDIO_KEY not in got.metadata


def gate_events(record: SessionRecord) -> list[dict]:
    lines = record.events_path.read_text().splitlines()
    return [e for e in map(json.loads, lines) if e["type"] == "echo_gate"]


# --- behaviour --------------------------------------------------------------------------------


@pytest.mark.parametrize("rate", RATES)
async def test_echo_while_bot_speaks_becomes_silence_of_the_same_length(rate: int) -> None:
    gate = StampedGate()
    tl = Timeline(rate).bot(True).say(tone(1.0, rate, 0.04)).say(speech_like(0.6, rate, 0.02))
    audio, _down, up = await run_gate(gate, tl)

    assert all(is_silent(f) for f in audio)
    for sent, got in zip(tl.audio, audio):
        assert got.metadata[ORIGINAL_AUDIO_KEY] == sent.audio
        assert got.id == sent.id and got is not sent  # a copy: the input transport's frame is untouched
        assert any(sent.audio)
    assert gate.stats.suppressed_frames == len(tl.audio)
    assert gate.stats.suppressed_seconds == pytest.approx(1.6)
    # The gate saw the bot start travelling upstream and passed it on upstream.
    assert any(isinstance(f, BotStartedSpeakingFrame) for f in up)


@pytest.mark.parametrize("rate", RATES)
async def test_loud_sustained_barge_in_passes_from_the_frame_reaching_the_minimum(rate: int, tmp_path: Path) -> None:
    record = SessionRecord.create(tmp_path, "t")
    gate = StampedGate(events=record)
    tl = Timeline(rate).bot(True).say(tone(0.3, rate, 0.02)).say(tone(0.5, rate, 0.2))
    audio, _, _ = await run_gate(gate, tl)
    record.close()

    echo, loud = audio[:15], audio[15:]
    assert all(is_silent(f) for f in echo)
    # Held while undecided, then released as they were once the run reached 200 ms (lookback):
    # the VAD and the recogniser get the barge-in from its first syllable.
    assert all(passed_unchanged(s, g) for s, g in zip(tl.audio[15:], loud))
    assert gate.stats.barge_ins == 1
    assert gate.stats.barge_in_frames == len(loud)
    events = gate_events(record)
    assert [e["kind"] for e in events] == ["barge_in", "summary"]
    assert events[0]["run_secs"] == pytest.approx(0.2)
    assert events[0]["lookback_secs"] == pytest.approx(0.18)
    assert events[1]["suppressed_frames"] == 15 and events[1]["barge_ins"] == 1


def echo_of(sent: bytes, rate: int, gain_db: float, delay_secs: float = 0.06) -> np.ndarray:
    """What a speakerphone's microphone hears of ``sent``: ``gain_db`` down, ``delay_secs`` late."""
    samples = np.frombuffer(sent, dtype="<i2").astype(np.float64)
    return np.concatenate([np.zeros(int(delay_secs * rate)), samples])[: samples.size] * 10 ** (gain_db / 20)


def mix(*parts: np.ndarray | bytes) -> bytes:
    arrays = [np.frombuffer(p, dtype="<i2").astype(np.float64) if isinstance(p, bytes) else p for p in parts]
    n = max(a.size for a in arrays)
    return _pcm(sum(np.pad(a, (0, n - a.size)) for a in arrays) / 32768.0)


def scaled(pcm: bytes, rms: float) -> bytes:
    """``pcm`` scaled to an RMS over its voiced part (full scale = 1.0)."""
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64) / 32768.0
    voiced = samples[np.abs(samples) > 0.01]
    return _pcm(samples * rms / np.sqrt(np.mean(voiced**2)))


@pytest.fixture(scope="module")
def voices() -> dict[str, bytes]:
    """The interviewer's sentence and a candidate's answer, spoken by Piper at 16 kHz (steady: the same every run)."""
    from scripts.candidate_voice import PiperCandidateVoice

    voice = PiperCandidateVoice(steady=True)
    bot = "Thanks. Now walk me through the last system you designed, from the first request to the database, and take your time."
    answer = "So the first thing we built was a ledger service in Python, and every payment went through it."
    return {"bot": scaled(voice.synthesize(bot, 16000), 0.1), "answer": voice.synthesize(answer, 16000)}


def voiced_frames(pcm: bytes, rate: int) -> list[int]:
    return [i for i, c in enumerate(chunks(pcm, rate)) if pcm16_rms(c) > 0.01]


async def test_a_soft_candidate_on_a_clean_line_passes_while_the_bot_speaks(voices: dict[str, bytes]) -> None:
    """A headset: the bot's loud voice is never heard back; the candidate answers softly over it."""
    rate, bot = 16000, voices["bot"]
    answer = scaled(voices["answer"], 0.03)  # softer than the fixed 0.05 threshold
    lead = int(1.5 * rate) * 2  # the candidate starts 1.5 s into the bot's sentence
    heard = bytes(lead) + answer
    n = min(len(bot), len(heard)) // 640 * 640
    tl = Timeline(rate).bot(True).duplex(bot[:n], heard[:n])
    gate = StampedGate(EchoGateSettings())
    audio, _, _ = await run_gate(gate, tl)
    spoken = [i for i in voiced_frames(heard[:n], rate) if i >= lead // 640]
    passed = [i for i in spoken if not is_silent(audio[i])]
    assert len(spoken) > 100 and len(passed) >= 0.9 * len(spoken), (len(passed), len(spoken))
    assert all(is_silent(f) for f in audio[: lead // 640])  # nothing passed before they spoke (a quiet line)
    assert gate.echo.coupling < 0.1  # the line was learnt to be quiet, never the candidate's voice as echo
    fixed, _, _ = await run_gate(StampedGate(SETTINGS), tl)
    assert all(is_silent(fixed[i]) for i in spoken)


@pytest.mark.parametrize("gain_db", [-6.0, -12.0])
async def test_a_speakerphone_echo_never_barges_in_but_the_candidate_over_it_does(
    voices: dict[str, bytes], gain_db: float
) -> None:
    rate, bot = 16000, voices["bot"]
    echo = echo_of(bot, rate, gain_db)
    tl = Timeline(rate).bot(True).duplex(bot, mix(echo))  # the whole sentence, echoed back
    gate = StampedGate(EchoGateSettings())
    audio, _, _ = await run_gate(gate, tl)
    assert all(is_silent(f) for f in audio) and gate.stats.barge_ins == 0
    assert gate.echo.coupling == pytest.approx(10 ** (gain_db / 20), rel=0.35)
    assert gate.echo.delay == pytest.approx(0.06, abs=0.041)
    fixed = StampedGate(SETTINGS)
    await run_gate(fixed, Timeline(rate).bot(True).duplex(bot, mix(echo_of(bot, rate, -6.0))))
    assert fixed.stats.barge_ins > 0  # the fixed threshold takes a -6 dB echo for the candidate

    # The same line, the candidate talking over the bot's next sentence at the bot's own level.
    start = len(tl.audio)
    answer = scaled(voices["answer"], 0.1)
    n = min(len(bot), len(answer)) // 640 * 640
    tl.duplex(bot[:n], mix(echo_of(bot[:n], rate, gain_db), answer[:n]))
    audio, _, _ = await run_gate(gate := StampedGate(EchoGateSettings()), tl)
    assert gate.stats.barge_ins >= 1
    spoken = voiced_frames(answer[:n], rate)
    passed = [i for i in spoken if not is_silent(audio[start + i])]
    assert len(passed) >= 0.5 * len(spoken), (len(passed), len(spoken))


async def test_before_the_line_is_learnt_only_a_candidate_louder_than_the_bot_passes() -> None:
    rate = 16000
    sent = tone(1.0, rate, 0.1)
    tl = Timeline(rate).bot(True).duplex(sent, tone(1.0, rate, 0.1))  # an echo as loud as the bot, from the start
    gate = StampedGate(EchoGateSettings())
    audio, _, _ = await run_gate(gate, tl)
    assert all(is_silent(f) for f in audio) and gate.stats.barge_ins == 0
    tl = Timeline(rate).bot(True).duplex(sent, tone(1.0, rate, 0.3))  # three times louder: the candidate
    audio, _, _ = await run_gate(StampedGate(EchoGateSettings()), tl)
    assert sum(not is_silent(f) for f in audio) >= 35


async def test_without_a_reference_the_threshold_is_the_fixed_one() -> None:
    gate = StampedGate(EchoGateSettings())
    await run_gate(gate, Timeline(16000).bot(True).say(tone(2.0, 16000, 0.3)))
    assert gate.barge_in_threshold == EchoGateSettings().barge_in_rms_threshold


@pytest.mark.parametrize("rate", RATES)
async def test_short_loud_click_while_bot_speaks_is_suppressed(rate: int) -> None:
    gate = StampedGate()
    tl = (
        Timeline(rate).bot(True)
        .say(tone(0.1, rate, 0.02)).say(tone(0.18, rate, 0.5))  # 180 ms click
        .say(tone(0.3, rate, 0.02)).say(tone(0.06, rate, 0.5))  # a second, short one later
        .say(tone(0.2, rate, 0.02))
    )  # fmt: skip
    audio, _, _ = await run_gate(gate, tl)
    assert all(is_silent(f) for f in audio)
    assert gate.stats.barge_ins == 0


async def test_barge_in_survives_the_dips_between_syllables() -> None:
    """Loud runs of 140 ms with 60 ms dips still add up to a barge-in; the dips then pass too."""
    rate = 16000
    syllable = tone(0.14, rate, 0.15) + tone(0.06, rate, 0.005)
    gate = StampedGate()
    tl = Timeline(rate).bot(True).say(syllable * 4)
    audio, _, _ = await run_gate(gate, tl)
    # 7 loud + 3 quiet frames per syllable; the 200th ms of loud audio ends frame 12, and
    # the run so far (dips included) is released with it.
    assert all(not is_silent(f) for f in audio)
    assert gate.stats.barge_ins == 1


async def test_a_barge_in_continues_across_a_pause_shorter_than_the_hangover() -> None:
    rate = 16000
    gate = StampedGate()
    tl = Timeline(rate).bot(True).say(tone(0.3, rate, 0.2)).say(tone(0.16, rate, 0.01)).say(tone(0.4, rate, 0.2))
    audio, _, _ = await run_gate(gate, tl)
    assert all(not is_silent(f) for f in audio)
    assert gate.stats.barge_ins == 1


async def test_tail_hangover_does_not_leak_into_the_next_tail() -> None:
    rate = 16000
    gate = StampedGate()
    tl = Timeline(rate).bot(True).bot(False).say(tone(0.1, rate, 0.1))  # candidate starts answering
    tl.bot(True).bot(False).say(tone(0.1, rate, 0.02))  # a short bot utterance, then room noise
    audio, _, _ = await run_gate(gate, tl)
    assert [is_silent(f) for f in audio] == [False] * 5 + [True] * 5


@pytest.mark.parametrize("rate", RATES)
async def test_tail_silences_quiet_noise_but_lets_louder_speech_through(rate: int) -> None:
    gate = StampedGate()
    tl = Timeline(rate).bot(True).say(tone(0.2, rate, 0.04)).bot(False)
    noise_start = len(tl.audio)
    tl.say(tone(0.6, rate, 0.02))  # reverb / line echo below the cooldown threshold
    speech_start = len(tl.audio)
    tl.say(tone(0.3, rate, 0.08))  # the candidate answering right away
    audio, _, _ = await run_gate(gate, tl)

    assert all(is_silent(f) for f in audio[noise_start:speech_start])
    assert all(passed_unchanged(s, g) for s, g in zip(tl.audio[speech_start:], audio[speech_start:]))
    assert gate.stats.tail_passed_frames == len(tl.audio) - speech_start


@pytest.mark.parametrize("rate", RATES)
async def test_speech_after_the_tail_passes_untouched_including_quiet_parts(rate: int) -> None:
    gate = StampedGate()
    tl = Timeline(rate).bot(True).say(tone(0.2, rate, 0.04)).bot(False).wait(SETTINGS.cooldown_secs + 0.01)
    after = len(tl.audio)
    tl.say(speech_like(1.5, rate, 0.03)).say(tone(0.2, rate, 0.002)).say(speech_like(0.5, rate, 0.006, seed=2))
    audio, _, _ = await run_gate(gate, tl)

    assert all(passed_unchanged(s, g) for s, g in zip(tl.audio[after:], audio[after:]))
    assert all(g is s for s, g in zip(tl.audio[after:], audio[after:]))  # not even copied
    assert gate.stats.quiet_frames >= 10  # counted for diagnostics, passed as-is
    assert gate.stats.suppressed_frames == 10  # only the echo while the bot spoke


async def test_upstream_bot_frames_are_passed_on_upstream_and_downstream_ones_downstream() -> None:
    gate = StampedGate()
    down, up = await run_test(
        gate, frames_to_send=[BotStartedSpeakingFrame()], frames_to_send_direction=FrameDirection.UPSTREAM
    )
    assert [type(f) for f in up] == [BotStartedSpeakingFrame] and not down
    assert gate.bot_audible

    gate = StampedGate()
    rate = 16000
    frames = [BotStartedSpeakingFrame(), SleepFrame(0.05)]
    frames += [
        InputAudioRawFrame(audio=c, sample_rate=rate, num_channels=1) for c in chunks(tone(0.2, rate, 0.03), rate)
    ]
    down, up = await run_test(gate, frames_to_send=frames)
    assert isinstance(down[0], BotStartedSpeakingFrame) and not up
    assert all(is_silent(f) for f in down[1:])


async def test_playback_reports_are_the_truth_once_used() -> None:
    rate = 8000
    gate = StampedGate()
    tl = Timeline(rate).playback(True).bot(True).say(tone(0.2, rate, 0.04))
    tl.bot(False)  # the server finished sending; the phone is still playing it
    still_playing = len(tl.audio)
    tl.say(tone(0.4, rate, 0.04)).playback(False)
    tail = len(tl.audio)
    tl.say(tone(0.4, rate, 0.02)).wait(SETTINGS.cooldown_secs)
    after = len(tl.audio)
    tl.say(tone(0.2, rate, 0.02))
    audio, _, _ = await run_gate(gate, tl)

    assert all(is_silent(f) for f in audio[:still_playing])
    assert all(is_silent(f) for f in audio[still_playing:tail])
    assert all(is_silent(f) for f in audio[tail:after])
    assert all(passed_unchanged(s, g) for s, g in zip(tl.audio[after:], audio[after:]))


async def test_with_playback_reports_the_start_is_gated_before_the_first_report_comes_back() -> None:
    """Twilio's start mark returns only after the first TTS frame has played: the server's frames cover that."""
    rate = 8000
    gate = StampedGate()
    tl = (
        Timeline(rate).playback(True).playback(False).bot(True).say(tone(0.6, rate, 0.04))
    )  # next utterance, no mark yet
    audio, _, _ = await run_gate(gate, tl)
    assert all(is_silent(f) for f in audio)


def test_playback_methods_drive_the_state_directly() -> None:
    now = [100.0]
    gate = EchoGate(SETTINGS, clock=lambda: now[0])
    assert gate.mode == "open" and not gate.bot_audible
    gate.playback_started()
    assert gate.mode == "audible"
    gate._set_frames_audible(False)  # a BotStoppedSpeakingFrame no longer counts
    assert gate.bot_audible
    gate.playback_finished()
    assert gate.mode == "tail"
    now[0] += SETTINGS.cooldown_secs
    assert gate.mode == "open"


async def test_disabled_gate_passes_everything_untouched(tmp_path: Path) -> None:
    record = SessionRecord.create(tmp_path, "t")
    gate = StampedGate(EchoGateSettings(enabled=False), events=record)
    tl = Timeline(16000).bot(True).say(tone(0.5, 16000, 0.04)).say(tone(0.1, 16000, 0.5))
    audio, _, _ = await run_gate(gate, tl)
    record.close()
    assert all(g is s for s, g in zip(tl.audio, audio))
    assert gate.stats.frames == 0
    (summary,) = gate_events(record)
    assert summary["kind"] == "summary" and summary["enabled"] is False


async def test_stereo_at_other_rates_keeps_layout(tmp_path: Path) -> None:
    gate = StampedGate()
    tl = Timeline(24000, channels=2).bot(True).say(tone(0.3, 24000, 0.04, channels=2), ms=10)
    audio, _, _ = await run_gate(gate, tl)
    assert len(audio) == 30 and all(is_silent(f) for f in audio)
    assert gate.stats.suppressed_seconds == pytest.approx(0.3)


async def test_summary_on_cancel_is_reported_once(tmp_path: Path) -> None:
    record = SessionRecord.create(tmp_path, "t")
    gate = EchoGate(SETTINGS, events=record)
    pushed: list[Frame] = []

    async def capture(frame: Frame, direction: FrameDirection = FrameDirection.DOWNSTREAM) -> None:
        pushed.append(frame)

    gate.push_frame = capture  # type: ignore[method-assign]
    await gate.process_frame(BotStartedSpeakingFrame(), FrameDirection.UPSTREAM)
    await gate.process_frame(
        InputAudioRawFrame(audio=tone(0.02, 16000, 0.04), sample_rate=16000, num_channels=1), FrameDirection.DOWNSTREAM
    )
    await gate.process_frame(CancelFrame(), FrameDirection.DOWNSTREAM)
    await gate.process_frame(CancelFrame(), FrameDirection.DOWNSTREAM)
    record.close()
    assert isinstance(pushed[-1], CancelFrame)
    (summary,) = gate_events(record)
    assert summary["kind"] == "summary"
    assert (summary["suppressed_frames"], summary["suppressed_seconds"], summary["barge_ins"]) == (1, 0.02, 0)


async def test_a_failing_event_sink_does_not_break_the_audio_path() -> None:
    class Broken:
        def event(self, event_type: str, **data: object) -> None:
            raise OSError("disk full")

        def write_json(self, name: str, data: dict) -> Path:
            raise OSError("disk full")

    gate = StampedGate(events=Broken())
    tl = Timeline(16000).bot(True).say(tone(0.4, 16000, 0.3))
    audio, _, _ = await run_gate(gate, tl)
    assert gate.stats.barge_ins == 1 and not is_silent(audio[-1])


def test_rms_matches_a_float_reference() -> None:
    rng = np.random.default_rng(0)
    for n in (1, 160, 320, 441):
        samples = rng.integers(-32768, 32768, size=n).astype("<i2")
        expected = np.sqrt(np.mean((samples / 32768.0) ** 2))
        assert pcm16_rms(samples.tobytes()) == pytest.approx(expected, rel=1e-9)
    assert pcm16_rms(b"") == 0.0 and pcm16_rms(b"\x01") == 0.0


# --- barge-in through a real user aggregator with Silero VAD --------------------------------


def _user_aggregator(rate: int) -> FrameProcessor:
    from pipecat.audio.vad.silero import SileroVADAnalyzer
    from pipecat.processors.aggregators.llm_context import LLMContext
    from pipecat.processors.aggregators.llm_response_universal import LLMUserAggregator, LLMUserAggregatorParams
    from pipecat.turns.user_stop import SpeechTimeoutUserTurnStopStrategy
    from pipecat.turns.user_turn_strategies import UserTurnStrategies

    params = LLMUserAggregatorParams(
        vad_analyzer=SileroVADAnalyzer(sample_rate=rate),
        user_turn_strategies=UserTurnStrategies(stop=[SpeechTimeoutUserTurnStopStrategy()]),
    )
    return LLMUserAggregator(LLMContext(), params=params)


async def _interrupts(gate_settings: EchoGateSettings, rate: int, rms: float) -> bool:
    frames: list[Frame] = [BotStartedSpeakingFrame(), SleepFrame(0.05)]
    frames += [
        InputAudioRawFrame(audio=c, sample_rate=rate, num_channels=1) for c in chunks(speech_like(1.5, rate, rms), rate)
    ]
    frames.append(SleepFrame(0.2))
    down, up = await run_test(
        Pipeline([EchoGate(gate_settings), _user_aggregator(rate)]),
        frames_to_send=frames,
        pipeline_params=PipelineParams(audio_in_sample_rate=rate),
    )
    kinds = {type(f) for f in [*down, *up]}
    return InterruptionFrame in kinds and UserStartedSpeakingFrame in kinds


@pytest.mark.parametrize("rate", RATES)
async def test_loud_speech_over_the_bot_interrupts_it_through_silero(rate: int) -> None:
    assert await _interrupts(SETTINGS, rate, rms=0.1)


@pytest.mark.parametrize("rate", RATES)
async def test_the_same_speech_at_echo_level_does_not_interrupt(rate: int) -> None:
    assert not await _interrupts(SETTINGS, rate, rms=0.02)
    # ...although Silero would take it for speech without the gate:
    assert await _interrupts(EchoGateSettings(enabled=False), rate, rms=0.02)


# --- property-based: random sequences against a reference model ------------------------------

LEVELS = [0.0, 0.004, 0.012, 0.02, 0.035, 0.045, 0.06, 0.1, 0.3]


@dataclass
class Reference:
    """The gating rule written plainly, frame by frame (the spec the gate must match).

    ``decide`` fills ``expected`` (pass / silence per audio frame); a frame of a loud run
    still undecided while the bot is audible stays ``None`` until the run becomes a
    barge-in (all of it passes), breaks up or the bot goes quiet (all of it is silenced),
    or the run's held audio exceeds the lookback (the oldest frames are silenced).
    """

    s: EchoGateSettings
    hangover: float = 0.3  # the documented defaults, written out: the model must not follow the code
    gap_tolerance: float = 0.1
    max_hold_extra: float = 0.3
    bot_frames: bool = False
    external: bool | None = None  # None until an external playback source reports
    stopped_at: float | None = None
    loud_secs: float = 0.0
    gap: float = 0.0
    barging: bool = False
    hold: float = 0.0
    barge_ins: int = 0
    expected: list[bool | None] = field(default_factory=list)
    pending: list[tuple[int, float]] = field(default_factory=list)  # (frame index, secs)

    def audible(self) -> bool:
        return self.bot_frames or bool(self.external)

    def bot(self, audible: bool, t: float, external: bool) -> None:
        before = self.audible()
        if external:
            self.external = audible
        else:
            self.bot_frames = audible
        if before and not self.audible():
            self.stopped_at = t
        elif self.audible() and not before:
            self.hold = 0.0

    def settle(self, passes: bool) -> None:
        for i, _ in self.pending:
            self.expected[i] = passes
        self.pending = []

    def decide(self, rms: float, secs: float, t: float) -> None:
        index = len(self.expected)
        self.expected.append(None)
        if not self.audible():
            self.settle(False)
        outcome = self._passes(rms, secs, t)
        if outcome is None:
            self.pending.append((index, secs))
            while sum(x for _, x in self.pending) > self.s.barge_in_min_secs + self.max_hold_extra + DURATION_EPS:
                self.expected[self.pending.pop(0)[0]] = False
            return
        self.settle(outcome)
        self.expected[index] = outcome

    def _passes(self, rms: float, secs: float, t: float) -> bool | None:
        s = self.s
        loud = rms > s.barge_in_rms_threshold
        if loud:
            self.loud_secs, self.gap = self.loud_secs + secs, 0.0
        else:
            self.gap += secs
            if self.gap > self.gap_tolerance + DURATION_EPS:
                self.loud_secs = 0.0
        if self.audible():
            if self.barging:
                if loud:
                    self.hold = self.hangover
                    return True
                if self.hold > DURATION_EPS:
                    self.hold -= secs
                    return True
                self.barging, self.hold = False, 0.0
                return False
            if loud and self.loud_secs + DURATION_EPS >= s.barge_in_min_secs:
                self.barge_ins += 1
                self.barging, self.hold = True, self.hangover
                return True
            return None if self.loud_secs > DURATION_EPS else False
        self.barging = False
        if self.stopped_at is not None and t - self.stopped_at < s.cooldown_secs:
            if rms > s.cooldown_rms_threshold:
                self.hold = self.hangover
                return True
            if self.hold > DURATION_EPS:
                self.hold -= secs
                return True
            self.hold = 0.0
            return False
        self.hold = 0.0
        return True


def _square(n_samples: int, level: float) -> bytes:
    """Alternating +-a: RMS is exactly a (after quantisation)."""
    a = round(level * 32767)
    return np.resize(np.array([a, -a], dtype="<i2"), n_samples).tobytes()


_audio_event = st.tuples(
    st.just("audio"),
    st.sampled_from([8000, 16000, 24000]),
    st.sampled_from([1, 1, 1, 2]),
    st.one_of(st.sampled_from([10, 20, 20, 20, 30, 40]), st.integers(1, 60)),  # ms per frame
    st.sampled_from(LEVELS),
    st.integers(1, 15),  # frames in a row like this (sustained runs, gaps, holds)
)
_event = st.one_of(
    _audio_event,
    _audio_event,
    _audio_event,
    st.tuples(st.just("bot"), st.booleans()),
    st.tuples(st.just("playback"), st.booleans()),
    st.tuples(st.just("wait"), st.sampled_from([0.1, 0.5, 1.0, 1.49, 1.6])),
)
_sequence = st.lists(_event, min_size=1, max_size=120)


def _build(events: list[tuple], with_playback: bool) -> tuple[list[Frame], list[bool], Reference]:
    """Frames stamped with time, and what the reference model says each audio frame does."""
    model = Reference(SETTINGS)
    t, frames = 0.0, []
    for event in events:
        kind = event[0]
        if kind == "audio":
            _, rate, channels, ms, level, count = event
            n = max(1, rate * ms // 1000) * channels
            for _ in range(count):
                frame = InputAudioRawFrame(audio=_square(n, level), sample_rate=rate, num_channels=channels)
                frame.metadata["t"] = t
                secs = len(frame.audio) / (2 * channels * rate)
                model.decide(pcm16_rms(frame.audio), secs, t)
                t += secs
                frames.append(frame)
            continue
        elif kind == "wait":
            t += event[1]
            continue
        else:
            if kind == "playback" and not with_playback:
                continue
            model.bot(event[1], t, external=kind == "playback")
            frame = (
                Playback(started=event[1])
                if kind == "playback"
                else (BotStartedSpeakingFrame() if event[1] else BotStoppedSpeakingFrame())
            )
            frame.metadata["t"] = t
        frames.append(frame)
    model.settle(False)  # the end of the stream releases what is still held, as silence
    return frames, [bool(x) for x in model.expected], model


def _check(sent: list[Frame], got: list[Frame], expected: list[bool]) -> None:
    sent_audio = [f for f in sent if isinstance(f, InputAudioRawFrame)]
    got_audio = [f for f in got if isinstance(f, InputAudioRawFrame)]
    assert len(got) == len(sent) and len(got_audio) == len(sent_audio)
    for s, g, should_pass in zip(sent_audio, got_audio, expected):
        assert (len(g.audio), g.sample_rate, g.num_channels) == (len(s.audio), s.sample_rate, s.num_channels)
        if should_pass:
            assert g.audio == s.audio and ORIGINAL_AUDIO_KEY not in g.metadata
        else:
            assert not any(g.audio) and g.metadata[ORIGINAL_AUDIO_KEY] == s.audio


@hyp_settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=_sequence, with_playback=st.booleans())
def test_property_gate_matches_the_reference_model(events: list[tuple], with_playback: bool) -> None:
    """Direct calls (no pipeline): many sequences, exact agreement with the model."""
    frames, expected, model = _build(events, with_playback)
    gate = StampedGate()
    pushed: list[Frame] = []

    async def capture(frame: Frame, direction: FrameDirection = FrameDirection.DOWNSTREAM) -> None:
        pushed.append(frame)

    gate.push_frame = capture  # type: ignore[method-assign]

    async def drive() -> None:
        for frame in frames:
            up = isinstance(frame, (BotStartedSpeakingFrame, BotStoppedSpeakingFrame))
            await gate.process_frame(frame, FrameDirection.UPSTREAM if up else FrameDirection.DOWNSTREAM)
        await gate.process_frame(EndFrame(), FrameDirection.DOWNSTREAM)  # releases what is held

    asyncio.run(drive())
    assert isinstance(pushed.pop(), EndFrame)
    _check(frames, pushed, expected)
    assert gate.stats.suppressed_frames == expected.count(False)
    assert gate.stats.barge_ins == model.barge_ins


@hyp_settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=_sequence, with_playback=st.booleans())
def test_property_through_a_pipeline_no_frame_is_lost_or_resized(events: list[tuple], with_playback: bool) -> None:
    """Through run_test: same count, same sizes, same decisions as the model."""
    frames, expected, _ = _build(events, with_playback)
    gate = StampedGate()
    down, _ = asyncio.run(run_test(gate, frames_to_send=frames))
    _check(frames, list(down), expected)


async def test_the_output_tap_records_what_the_bot_sent_and_passes_it_on() -> None:
    from pipecat.frames.frames import OutputAudioRawFrame

    gate = EchoGate(EchoGateSettings())
    sent = [
        OutputAudioRawFrame(audio=c, sample_rate=24000, num_channels=1) for c in chunks(tone(0.2, 24000, 0.1), 24000)
    ]
    _down, _ = await run_test(gate.output_tap(), frames_to_send=sent, expected_down_frames=[OutputAudioRawFrame] * 10)
    assert gate.envelope.frames == 10
    now = asyncio.get_running_loop().time()  # the envelope's clock is time.monotonic, like the loop's
    assert gate.echo.has_reference and gate.envelope.level(now - 1.0, now) == pytest.approx(0.1, rel=0.01)
