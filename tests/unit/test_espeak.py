"""In-process espeak-ng: PCM at any rate, streaming, thread safety, clear errors."""

import threading
import time

import numpy as np
import pytest

from services.espeak import EspeakSynthesizer, native_sample_rate

TEXT = "Thanks for joining, could you tell me about the backend systems you work on?"
WORDS = len(TEXT.split())


@pytest.fixture(scope="module")
def synth() -> EspeakSynthesizer:
    return EspeakSynthesizer()


def seconds(pcm: bytes, rate: int) -> float:
    return len(pcm) / 2 / rate


@pytest.mark.parametrize("rate", [8000, 16000, 22050, 24000, 48000])
def test_pcm_at_requested_rate_with_plausible_duration(synth: EspeakSynthesizer, rate: int) -> None:
    pcm = synth.synthesize(TEXT, rate)
    assert len(pcm) % 2 == 0
    expected = WORDS * 60 / 150  # 150 wpm
    assert 0.6 * expected < seconds(pcm, rate) < 1.8 * expected
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    assert np.sqrt(np.mean(samples**2)) > 500  # speech, not silence


def test_duration_is_the_same_at_every_rate(synth: EspeakSynthesizer) -> None:
    durations = [seconds(synth.synthesize(TEXT, r), r) for r in (8000, 16000, 24000)]
    assert max(durations) - min(durations) < 0.01
    assert native_sample_rate() == 22050


def test_rate_changes_duration() -> None:
    slow = EspeakSynthesizer(words_per_minute=120).synthesize(TEXT, 16000)
    fast = EspeakSynthesizer(words_per_minute=240).synthesize(TEXT, 16000)
    assert len(fast) < 0.7 * len(slow)


def test_streaming_chunks_match_whole_synthesis(synth: EspeakSynthesizer) -> None:
    started = time.perf_counter()
    chunks = []
    first_chunk_s = None
    for chunk in synth.iter_synthesize(TEXT, 24000, chunk_ms=40):
        first_chunk_s = first_chunk_s or time.perf_counter() - started
        chunks.append(chunk)
    assert first_chunk_s is not None and first_chunk_s < 0.05  # measured ~1 ms
    assert all(len(c) == 24000 * 40 // 1000 * 2 for c in chunks[:-1])
    # Klatt carries state between utterances, so compare shape rather than bytes.
    assert len(b"".join(chunks)) == len(synth.synthesize(TEXT, 24000))


def test_closing_the_stream_early_aborts_without_leaking_state(synth: EspeakSynthesizer) -> None:
    reference = synth.phonemes("Kubernetes ledger")
    stream = synth.iter_synthesize(TEXT * 5, 16000)
    next(stream)
    stream.close()
    assert synth.phonemes("Kubernetes ledger") == reference
    assert len(synth.synthesize(TEXT, 16000)) == len(EspeakSynthesizer().synthesize(TEXT, 16000))


def test_concurrent_threads_get_the_same_audio(synth: EspeakSynthesizer) -> None:
    expected = len(synth.synthesize(TEXT, 16000))
    other = EspeakSynthesizer("en-us", 200)  # switches the library's global voice/rate
    results: list[int] = []

    def ours() -> None:
        results.append(len(synth.synthesize(TEXT, 16000)))

    def theirs() -> None:
        other.synthesize("Hello there.", 8000)

    threads = [threading.Thread(target=f) for f in [ours, theirs] * 4]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [expected] * 4


@pytest.mark.parametrize("voice", ["xx-nope", "en-us+no-such-variant"])
def test_unknown_voice_is_a_value_error_naming_it(voice: str) -> None:
    with pytest.raises(ValueError, match=voice.replace("+", r"\+")):
        EspeakSynthesizer(voice)


def test_bad_arguments(synth: EspeakSynthesizer) -> None:
    with pytest.raises(ValueError):
        EspeakSynthesizer(words_per_minute=5)
    with pytest.raises(ValueError):
        synth.synthesize("Hi", 0)
    assert synth.synthesize("   ", 16000) == b""


def test_phonemes_are_ipa(synth: EspeakSynthesizer) -> None:
    assert synth.phonemes("hello world") == "h_ə_l_ˈoʊ w_ˈɜː_l_d"


def test_default_volume_does_not_clip(synth: EspeakSynthesizer) -> None:
    peak = np.abs(np.frombuffer(synth.synthesize(TEXT * 3, 24000), dtype="<i2").astype(int)).max()
    assert 10000 < peak < 32767


def test_a_failing_consumer_aborts_with_its_own_error(synth: EspeakSynthesizer) -> None:
    def consumer(_chunk: bytes) -> bool:
        raise KeyError("consumer failed")

    with pytest.raises(KeyError, match="consumer failed"):
        synth.stream(TEXT, 16000, consumer)
    assert synth.phonemes("hello world") == "h_ə_l_ˈoʊ w_ˈɜː_l_d"
