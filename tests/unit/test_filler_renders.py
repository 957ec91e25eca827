"""The filler phrase is rendered once per process and voice, off the event loop, not once per session."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import pytest
from pipecat.frames.frames import TTSAudioRawFrame, UserStoppedSpeakingFrame
from pipecat.tests.utils import SleepFrame, run_test

from pipelines.parts import build_filler
from processors.filler_speech import RENDERS, RenderCache
from settings import Settings

RATE = 24000


def test_one_render_per_key_however_many_ask_at_once() -> None:
    cache, calls = RenderCache(), []

    def render() -> bytes:
        calls.append(1)
        time.sleep(0.05)  # long enough for every thread to arrive while it runs
        return b"\x01\x00" * 10

    results: list[bytes] = []
    threads = [threading.Thread(target=lambda: results.append(cache.get("k", render))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and cache.renders == 1 and results == [b"\x01\x00" * 10] * 8
    assert cache.get(("other", 16000), lambda: b"\x02\x00") == b"\x02\x00" and cache.renders == 2


def test_a_failed_render_is_not_kept_and_the_size_is_bounded() -> None:
    cache = RenderCache(max_entries=2)

    def fail() -> bytes:
        raise RuntimeError("no voice")

    with pytest.raises(RuntimeError):
        cache.get("k", fail)
    assert cache.get("k", lambda: b"ok") == b"ok"  # tried again, not a cached failure
    cache.get("a", lambda: b"a")
    cache.get("b", lambda: b"b")
    assert cache.get("k", lambda: b"new") == b"new"  # the oldest was dropped


class Sink:
    def event(self, event_type: str, **data) -> None:
        pass


async def test_sessions_of_one_process_share_one_render(monkeypatch: pytest.MonkeyPatch) -> None:
    import services.local_models
    import services.local_tts

    renders: list[tuple[str, int, bool]] = []

    def fake_synthesize_pcm(voice, text: str, sample_rate: int) -> bytes:
        renders.append((text, sample_rate, threading.current_thread() is threading.main_thread()))
        return b"\x01\x00" * (sample_rate // 10)

    monkeypatch.setattr(services.local_tts, "synthesize_pcm", fake_synthesize_pcm)
    monkeypatch.setattr(services.local_models.LOCAL_MODELS, "piper", lambda options: object())
    RENDERS.clear()
    settings = Settings(_env_file=None, filler_after_ms=100)  # type: ignore[call-arg]
    latency = SimpleNamespace(tracker=SimpleNamespace(incident=lambda *a, **k: None))
    for _session in range(3):
        filler = build_filler(settings, Sink(), latency)  # type: ignore[arg-type]
        assert filler is not None
        frames = [SleepFrame(0.1), UserStoppedSpeakingFrame(), SleepFrame(0.3)]
        down, _ = await run_test(filler, frames_to_send=frames)
        assert any(isinstance(f, TTSAudioRawFrame) for f in down)  # each session still says it
    assert len(renders) == 1  # ...from the one render
    assert renders[0][1] == RATE and renders[0][2] is False  # at the output rate, in a worker thread
    RENDERS.clear()
