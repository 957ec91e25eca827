"""One copy of each embedded speech model per process, shared by every session in it.

Why: Pipecat 1.14's ``WhisperSTTService`` and ``PiperTTSService`` load their model in
``__init__``, one per service instance. Built per session, that is ~75 MB (Whisper
tiny.en) + ~65 MB (Piper) more per session and 0.6-0.9 s of loading on the event loop,
which freezes every live session while a new one connects. Here each model is loaded
once (``preload_local_models`` at server start) and handed to every session's service.

Each shared model also carries a ``WorkPool``: a bound on how many transcriptions or
syntheses run at once (threads beyond it wait, off the event loop) and a record of how
long they waited, so queueing under load is measured, not guessed.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from loguru import logger

from services.model_files import LocalModelError, resolve_piper_voice, resolve_whisper_model
from services.whisper_short_window import ShortWindowDecoder

# asyncio.to_thread (which Pipecat's Whisper and Piper services use) runs on the loop's
# default executor; jobs waiting for a pool slot hold a thread, so give the loop enough.
DEFAULT_EXECUTOR_THREADS = 64
# Sentences up to this long are cached once synthesized (~3 s of audio, ~130 KB each).
MAX_CACHED_SENTENCE_CHARS = 60


class WorkPool:
    """At most ``size`` jobs of one kind run at once; how long each waited is kept."""

    def __init__(self, name: str, size: int) -> None:
        self.name = name
        self.size = size
        self._slots = threading.BoundedSemaphore(size)
        self._waits: deque[float] = deque(maxlen=2000)
        self._lock = threading.Lock()
        self.running = 0
        self.completed = 0

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one slot for the duration of the block (blocks the calling worker thread)."""
        queued = time.perf_counter()
        self._slots.acquire()
        waited = time.perf_counter() - queued
        with self._lock:
            self._waits.append(waited)
            self.running += 1
        try:
            yield
        finally:
            with self._lock:
                self.running -= 1
                self.completed += 1
            self._slots.release()

    def stats(self) -> dict[str, Any]:
        """Jobs done and their wait for a slot (ms, median / p95) - for /health and benchmarks."""
        with self._lock:
            waits = sorted(self._waits)
            running, completed = self.running, self.completed
        summary: dict[str, Any] = {"size": self.size, "running": running, "completed": completed}
        if waits:
            summary["wait_ms_p50"] = round(1000 * statistics.median(waits), 1)
            summary["wait_ms_p95"] = round(1000 * waits[min(len(waits) - 1, int(0.95 * len(waits)))], 1)
        return summary


class SharedWhisperModel:
    """Stands in for ``faster_whisper.WhisperModel`` inside Pipecat's ``WhisperSTTService``.

    Adds the pool and the decoding options chosen for interviews (greedy search, no
    timestamps): on three interview answers here, 0.71-0.79 s per answer against 0.90-1.12 s
    with faster-whisper's default beam search of 5, differing by a word or two.
    """

    def __init__(
        self, name: str, model: Any, pool: WorkPool, decode_options: dict[str, Any], short_window: bool = False
    ) -> None:
        self.name = name
        self._model = model
        self.pool = pool
        self._decode_options = decode_options
        self._short = ShortWindowDecoder(model) if short_window else None

    @property
    def supported_languages(self) -> list[str]:
        return list(getattr(self._model, "supported_languages", []) or [])

    def transcribe(self, audio: Any, **options: Any) -> tuple[list[Any], Any]:
        """Transcribe in the calling (worker) thread, decoding every segment inside the slot.

        English audio goes through the short encoder window first (``whisper_short_window``);
        what it declines takes faster-whisper's full 30 s path.
        """
        with self.pool.slot():
            if self._short is not None and options.get("language") in (None, "en"):
                segments = self._short.transcribe(
                    audio, initial_prompt=options.get("initial_prompt"), hotwords=options.get("hotwords")
                )
                if segments is not None:
                    return segments, None
            segments, info = self._model.transcribe(audio, **{**self._decode_options, **options})
            return list(segments), info


class SharedPiperVoice:
    """Stands in for ``piper.PiperVoice`` inside Pipecat's ``PiperTTSService`` (one per voice).

    Short sentences an interviewer says again and again ("Thank you.", "Got it, thank you.")
    are kept once synthesized (a small LRU per process), so the reply that starts with one
    begins to play at once instead of after ~100 ms of synthesis.
    """

    def __init__(self, name: str, voice: Any, pool: WorkPool, syn_config: Any, cache_entries: int = 64) -> None:
        self.name = name
        self._voice = voice
        self.pool = pool
        self._syn_config = syn_config
        self._cache: OrderedDict[str, list[Any]] = OrderedDict()
        self._cache_entries = cache_entries
        self._cache_lock = threading.Lock()
        self.cache_hits = 0

    @property
    def config(self) -> Any:
        return self._voice.config

    def synthesize(self, text: str) -> Iterator[Any]:
        """Sentence by sentence; each sentence is synthesized inside a pool slot."""
        cached = self._cached(text)
        if cached is not None:
            yield from cached
            return
        chunks = self._voice.synthesize(text, syn_config=self._syn_config)
        produced: list[Any] = []
        while True:
            with self.pool.slot():
                chunk = next(chunks, None)
            if chunk is None:
                break
            produced.append(chunk)
            yield chunk
        self._remember(text, produced)

    def _cached(self, text: str) -> list[Any] | None:
        with self._cache_lock:
            chunks = self._cache.get(text)
            if chunks is not None:
                self._cache.move_to_end(text)
                self.cache_hits += 1
            return chunks

    def _remember(self, text: str, chunks: list[Any]) -> None:
        if len(text) > MAX_CACHED_SENTENCE_CHARS or not chunks:
            return
        with self._cache_lock:
            self._cache[text] = chunks
            while len(self._cache) > self._cache_entries:
                self._cache.popitem(last=False)


@dataclass(frozen=True)
class WhisperOptions:
    model: str = "tiny.en"
    compute_type: str = "int8"
    cpu_threads: int = 0  # 0: CTranslate2's default
    concurrency: int = 1
    short_window: bool = True  # encode only the answer, not a padded 30 s window


@dataclass(frozen=True)
class PiperOptions:
    voice: str = "en_US-joe-medium"
    length_scale: float = 1.0
    concurrency: int = 2


class LocalModels:
    """The process's model registry: load on first request (or at preload), then share."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._whisper: dict[WhisperOptions, SharedWhisperModel] = {}
        self._piper: dict[PiperOptions, SharedPiperVoice] = {}

    def whisper(self, options: WhisperOptions) -> SharedWhisperModel:
        with self._lock:
            if options not in self._whisper:
                self._whisper[options] = _load_whisper(options)
            return self._whisper[options]

    def piper(self, options: PiperOptions) -> SharedPiperVoice:
        with self._lock:
            if options not in self._piper:
                self._piper[options] = _load_piper(options)
            return self._piper[options]

    def stats(self) -> dict[str, Any]:
        """Per loaded model, its pool's load and waits."""
        with self._lock:
            models: list[SharedWhisperModel | SharedPiperVoice] = [*self._whisper.values(), *self._piper.values()]
        return {f"{type(m).__name__}:{m.name}": m.pool.stats() for m in models}


LOCAL_MODELS = LocalModels()


def _load_whisper(options: WhisperOptions) -> SharedWhisperModel:
    from faster_whisper import WhisperModel

    path = resolve_whisper_model(options.model)
    started = time.perf_counter()
    try:
        model = WhisperModel(
            path,
            device="cpu",
            compute_type=options.compute_type,
            cpu_threads=options.cpu_threads,
            num_workers=options.concurrency,
        )
    except Exception as exc:  # hub unreachable, corrupt files, unknown compute type
        raise LocalModelError(f"LOCAL_STT_MODEL={options.model}: cannot load Whisper model from {path}: {exc}") from exc
    logger.info(f"Whisper {options.model} ({options.compute_type}) loaded in {time.perf_counter() - started:.2f} s")
    # One greedy pass (temperature 0 only): faster-whisper's default retries a doubtful result at five
    # more temperatures, each a whole 30 s window - seconds in which the candidate waits for a reply.
    decode = {"beam_size": 1, "without_timestamps": True, "condition_on_previous_text": False, "temperature": 0.0}
    pool = WorkPool(f"whisper:{options.model}", options.concurrency)
    return SharedWhisperModel(options.model, model, pool, decode, short_window=options.short_window)


_WARMED: set[int] = set()  # ids of the shared engines warm_up has run (they live as long as the process)


def warm_up(whisper: SharedWhisperModel | None, piper: SharedPiperVoice | None) -> None:
    """One synthesis and one transcription at startup, so the first candidate does not pay for them.

    The first call of each engine allocates its working memory and buffers (measured: the
    first reply of a fresh process came ~0.5 s later than the rest).
    """
    import numpy as np

    # Once per engine per process: a warm-pool bot warmed up before its session, then checks again.
    whisper = None if whisper is None or id(whisper) in _WARMED else whisper
    piper = None if piper is None or id(piper) in _WARMED else piper
    _WARMED.update(id(engine) for engine in (whisper, piper) if engine is not None)
    audio = np.zeros(16000, dtype=np.float32)
    if piper is not None:
        chunks = list(piper.synthesize("Hello."))
        if chunks:
            pcm = np.concatenate([c.audio_int16_array for c in chunks]).astype(np.float32) / 32768.0
            audio = np.interp(
                np.arange(0, len(pcm), piper.config.sample_rate / 16000), np.arange(len(pcm)), pcm
            ).astype(np.float32)
    if whisper is not None:
        whisper.transcribe(audio, language="en")


def _load_piper(options: PiperOptions) -> SharedPiperVoice:
    from piper import SynthesisConfig

    files = resolve_piper_voice(options.voice)
    started = time.perf_counter()
    try:
        voice = _piper_voice_without_arena(files.model, files.config)
    except Exception as exc:
        raise LocalModelError(f"LOCAL_TTS_VOICE={options.voice}: cannot load Piper voice {files.model}: {exc}") from exc
    logger.info(f"Piper voice {files.name} loaded in {time.perf_counter() - started:.2f} s")
    pool = WorkPool(f"piper:{files.name}", options.concurrency)
    return SharedPiperVoice(files.name, voice, pool, SynthesisConfig(length_scale=options.length_scale))


def _piper_voice_without_arena(model: Any, config: Any) -> Any:
    """``PiperVoice.load`` minus onnxruntime's CPU memory arena.

    The arena keeps the peak of every synthesis (long sentences, concurrent ones) for the
    life of the process: measured here +90-170 MB RSS for ~10 % faster synthesis. A
    long-running server holding many sessions wants the memory back.
    """
    import json

    import onnxruntime
    from piper import PiperVoice
    from piper.config import PiperConfig
    from piper.voice import ESPEAK_DATA_DIR

    options = onnxruntime.SessionOptions()
    options.enable_cpu_mem_arena = False
    options.enable_mem_pattern = False
    with open(config, encoding="utf-8") as f:
        piper_config = PiperConfig.from_dict(json.load(f))
    session = onnxruntime.InferenceSession(str(model), sess_options=options, providers=["CPUExecutionProvider"])
    return PiperVoice(config=piper_config, session=session, espeak_data_dir=ESPEAK_DATA_DIR)


def configure_default_executor(loop: Any) -> None:
    """Give the event loop enough threads for jobs that wait on a pool slot."""
    loop.set_default_executor(ThreadPoolExecutor(max_workers=DEFAULT_EXECUTOR_THREADS, thread_name_prefix="worker"))
