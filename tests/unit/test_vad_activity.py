"""The VAD: a short first word after digital silence (the echo gate's zeros) heard as quickly as after a noise floor;
one Silero ONNX session per process, state per session."""

from __future__ import annotations

import numpy as np
import pytest
from pipecat.audio.vad.silero import SileroVADAnalyzer
from pipecat.audio.vad.vad_analyzer import VADState

from interview.config import TurnTaking
from pipelines.turn_taking import build_vad_analyzer
from scripts.candidate_voice import PiperCandidateVoice
from turn_taking.shared_silero import SharedSileroVADAnalyzer

RATE = 16000
CHUNK = 320  # 20 ms, as the transports deliver it
# A one-syllable word, then a comma pause: the shape that started barge-ins on the *next* word.
SHORT_FIRST_WORDS = ["Wait, before you go on, I want to add something.", "Oh, I know this one."]


STEADY_VOICE = PiperCandidateVoice(steady=True)  # the same audio every run (Piper's default varies per process)


def speech(text: str) -> np.ndarray:
    return np.frombuffer(STEADY_VOICE.synthesize(text, RATE), dtype=np.int16)


async def seconds_to_speaking(turn_taking: TurnTaking, lead: np.ndarray, utterance: np.ndarray) -> float | None:
    """Seconds of the utterance the VAD needs before it reports SPEAKING (None: never)."""
    vad = build_vad_analyzer(turn_taking)
    vad.set_sample_rate(RATE)
    audio = np.concatenate([lead, utterance]).tobytes()
    for start in range(0, len(audio), 2 * CHUNK):
        state = await vad.analyze_audio(audio[start : start + 2 * CHUNK])
        if state == VADState.SPEAKING and start >= 2 * len(lead):
            return (start / 2 - len(lead)) / RATE
    return None


def zeros(secs: float) -> np.ndarray:
    return np.zeros(int(secs * RATE), dtype=np.int16)


def noise_floor(secs: float, dbfs: float = -70) -> np.ndarray:
    return (np.random.default_rng(0).standard_normal(int(secs * RATE)) * 32768 * 10 ** (dbfs / 20)).astype(np.int16)


@pytest.mark.parametrize("text", SHORT_FIRST_WORDS)
async def test_a_short_first_word_after_digital_silence_starts_speech_on_that_word(text: str) -> None:
    utterance = speech(text)
    started = await seconds_to_speaking(TurnTaking(), zeros(1.0), utterance)
    assert started is not None and started <= 0.45, f"{text!r}: SPEAKING after {started} s of speech"


async def test_without_the_lower_floor_the_first_word_is_missed() -> None:
    """The mechanism the setting exists for: Pipecat's smoothed loudness climbs from 0 after zeros."""
    plain = TurnTaking(vad_min_volume_after_silence=None)
    started = await seconds_to_speaking(plain, zeros(1.0), speech(SHORT_FIRST_WORDS[0]))
    assert started is not None and started > 0.6, f"SPEAKING after {started} s: the ramp no longer delays it"


async def test_after_a_real_noise_floor_the_configured_floor_stays() -> None:
    turn_taking = TurnTaking()
    vad = build_vad_analyzer(turn_taking)
    vad.set_sample_rate(RATE)
    await vad.analyze_audio(zeros(0.2).tobytes())
    assert vad.params.min_volume == turn_taking.vad_min_volume_after_silence
    await vad.analyze_audio(noise_floor(0.6).tobytes())
    assert vad.params.min_volume == turn_taking.vad_min_volume
    # The configured floor applies after a noise floor: speech is still heard (how fast depends on the noise
    # level and on Piper's rendering, which varies run to run; 1.1 s was seen once at -70 dBFS).
    started = await seconds_to_speaking(turn_taking, noise_floor(1.0), speech(SHORT_FIRST_WORDS[0]))
    assert started is not None


async def test_digital_silence_alone_is_never_speech() -> None:
    assert await seconds_to_speaking(TurnTaking(), zeros(0.5), zeros(2.0)) is None


def test_the_shared_analyzer_sets_up_what_pipecats_own_does() -> None:
    """SharedSileroVADAnalyzer skips SileroVADAnalyzer.__init__: a Pipecat upgrade that adds state shows here."""
    own = SileroVADAnalyzer(sample_rate=RATE)
    shared = SharedSileroVADAnalyzer(sample_rate=RATE)
    assert set(vars(shared)) == set(vars(own))
    assert set(vars(shared._model)) == set(vars(own._model))


def test_sessions_share_one_onnx_session_and_keep_their_own_state() -> None:
    """Interleaved windows of two streams score exactly as two separate Pipecat analyzers score them."""
    speaking, quiet = speech(SHORT_FIRST_WORDS[1]), noise_floor(1.0, dbfs=-50)
    shared = [SharedSileroVADAnalyzer(sample_rate=RATE) for _ in range(2)]
    own = [SileroVADAnalyzer(sample_rate=RATE) for _ in range(2)]
    assert shared[0]._model.session is shared[1]._model.session
    window = 512
    for start in range(0, min(len(speaking), len(quiet)) - window, window):
        for stream, audio in enumerate((speaking, quiet)):
            chunk = audio[start : start + window].tobytes()
            assert shared[stream].voice_confidence(chunk) == pytest.approx(
                own[stream].voice_confidence(chunk), abs=1e-6
            )
