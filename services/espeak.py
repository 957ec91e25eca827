"""In-process espeak-ng speech synthesis through ctypes.

Why: the product must speak with no network and no API keys, and the only TTS that
works offline here is espeak-ng (shipped as a shared library + data by the PyPI
package ``espeakng-loader``). Running it in-process gives the first audio in a few
milliseconds, with no subprocess per sentence.

This module deliberately has no Pipecat imports: the TTS service and the simulated
candidate client both use it.

espeak-ng's C API keeps global state (one voice, one rate, one callback) and is not
thread-safe, so every call goes through ``_LOCK`` and the library is initialised
once per process.
"""

from __future__ import annotations

import ctypes
import queue
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import espeakng_loader
import numpy as np
import soxr

# espeak_AUDIO_OUTPUT / espeak_ERROR / espeak_PARAMETER / flags from speak_lib.h
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_EE_OK = 0
_ESPEAK_RATE = 1
_ESPEAK_VOLUME = 2
_ESPEAKCHARS_UTF8 = 1
_POS_CHARACTER = 1
# Length in ms of the buffer espeak hands to the synth callback (global, set at init).
_ESPEAK_BUFFER_MS = 20

_SynthCallback = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p
)

_LOCK = threading.RLock()
_lib: ctypes.CDLL | None = None
_native_rate = 0
_current: tuple[str, int, int] | None = None  # (voice, wpm, volume) set in the library
_sink: Callable[[np.ndarray], bool] | None = None  # receives samples during a synth call
_sink_error: BaseException | None = None  # raised by _sink; ctypes would swallow it


@_SynthCallback
def _on_samples(wav: Any, numsamples: int, _events: Any) -> int:
    """Called by espeak (inside espeak_Synth, same thread). Returns 1 to abort."""
    global _sink_error
    if _sink is None or not wav or numsamples <= 0:
        return 0
    try:
        return 0 if _sink(np.ctypeslib.as_array(wav, shape=(numsamples,)).copy()) else 1
    except BaseException as exc:
        _sink_error = exc
        return 1


def _library() -> ctypes.CDLL:
    """Load and initialise espeak-ng once per process (caller holds _LOCK)."""
    global _lib, _native_rate
    if _lib is not None:
        return _lib
    lib = ctypes.CDLL(espeakng_loader.get_library_path())
    lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
    lib.espeak_Initialize.restype = ctypes.c_int
    lib.espeak_SetSynthCallback.argtypes = [_SynthCallback]
    lib.espeak_SetSynthCallback.restype = None
    lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
    lib.espeak_SetVoiceByName.restype = ctypes.c_int
    lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
    lib.espeak_SetParameter.restype = ctypes.c_int
    lib.espeak_Synth.argtypes = [
        ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
        ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p,
    ]  # fmt: skip
    lib.espeak_Synth.restype = ctypes.c_int
    lib.espeak_Synchronize.restype = ctypes.c_int
    lib.espeak_TextToPhonemes.argtypes = [
        ctypes.POINTER(ctypes.c_char_p), ctypes.c_int, ctypes.c_int
    ]
    lib.espeak_TextToPhonemes.restype = ctypes.c_char_p
    data_dir = espeakng_loader.get_data_path()
    # espeak wants the directory that *contains* espeak-ng-data.
    parent = str(Path(data_dir).parent).encode()
    rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, _ESPEAK_BUFFER_MS, parent, 0)
    if rate <= 0:
        raise RuntimeError(f"espeak-ng failed to initialise (data: {data_dir})")
    lib.espeak_SetSynthCallback(_on_samples)
    _lib, _native_rate = lib, rate
    return lib


def _select(lib: ctypes.CDLL, voice: str, wpm: int, volume: int) -> None:
    """Make voice/rate/volume current in the global library state (caller holds _LOCK)."""
    global _current
    if _current == (voice, wpm, volume):
        return
    variant = voice.partition("+")[2]
    variants_dir = Path(espeakng_loader.get_data_path()) / "voices" / "!v"
    if lib.espeak_SetVoiceByName(voice.encode()) != _EE_OK or (
        variant and not (variants_dir / variant).is_file()
    ):
        _current = None
        raise ValueError(f"espeak-ng voice '{voice}' not found (try 'en-us', 'en-us+klatt4', 'en')")
    lib.espeak_SetParameter(_ESPEAK_RATE, wpm, 0)
    lib.espeak_SetParameter(_ESPEAK_VOLUME, volume, 0)
    _current = (voice, wpm, volume)


def native_sample_rate() -> int:
    """espeak-ng's own output rate (22050 Hz for the bundled data)."""
    with _LOCK:
        _library()
        return _native_rate


class EspeakSynthesizer:
    """Text to 16-bit mono PCM with espeak-ng, resampled to any rate."""

    def __init__(
        self, voice: str = "en-us+klatt4", words_per_minute: int = 150, *, volume: int = 80
    ) -> None:
        """``volume`` is espeak's amplitude (0-200); at its default of 100 the Klatt
        voices clip, 80 keeps peaks just under full scale."""
        if not 80 <= words_per_minute <= 450:
            raise ValueError(f"words_per_minute must be 80..450, got {words_per_minute}")
        if not 0 < volume <= 200:
            raise ValueError(f"volume must be 1..200, got {volume}")
        self.voice = voice
        self.words_per_minute = words_per_minute
        self.volume = volume
        with _LOCK:  # fail fast on an unknown voice
            self._select(_library())

    def _select(self, lib: ctypes.CDLL) -> None:
        _select(lib, self.voice, self.words_per_minute, self.volume)

    def stream(
        self, text: str, sample_rate: int, on_chunk: Callable[[bytes], bool | None], chunk_ms: int = 40
    ) -> None:
        """Synthesize text, calling ``on_chunk(pcm)`` as audio is produced (blocking).

        ``on_chunk`` returning False aborts synthesis. Chunks are ~chunk_ms long
        (the last one may be shorter), little-endian int16 at ``sample_rate``.
        """
        global _sink, _sink_error
        if sample_rate <= 0:
            raise ValueError(f"sample_rate must be positive, got {sample_rate}")
        text = text.strip()
        if not text:
            return
        chunk_bytes = max(2, int(sample_rate * chunk_ms / 1000) * 2)
        pending = bytearray()
        aborted = False

        with _LOCK:
            lib = _library()
            self._select(lib)
            resampler = (
                soxr.ResampleStream(_native_rate, sample_rate, 1, dtype="int16", quality="HQ")
                if sample_rate != _native_rate
                else None
            )

            def emit(samples: np.ndarray, last: bool = False) -> bool:
                nonlocal aborted
                if resampler is not None:
                    samples = resampler.resample_chunk(samples, last=last)
                pending.extend(samples.astype("<i2", copy=False).tobytes())
                while len(pending) >= chunk_bytes or (last and pending):
                    piece = bytes(pending[:chunk_bytes])
                    del pending[:chunk_bytes]
                    if on_chunk(piece) is False:
                        aborted = True
                        return False
                return True

            _sink, _sink_error = emit, None
            try:
                data = text.encode("utf-8") + b"\0"
                err = lib.espeak_Synth(data, len(data), 0, _POS_CHARACTER, 0, _ESPEAKCHARS_UTF8, None, None)
            finally:
                _sink, error, _sink_error = None, _sink_error, None
            if error is not None or err != _EE_OK:
                aborted = True
            if aborted:
                # An aborted synth leaves translator state behind (it leaks into the
                # next espeak_TextToPhonemes); a blank synth resets it.
                blank = b" \0"
                lib.espeak_Synth(blank, len(blank), 0, _POS_CHARACTER, 0, _ESPEAKCHARS_UTF8, None, None)
            else:
                emit(np.zeros(0, dtype=np.int16), last=True)
        if error is not None:
            raise error
        if err != _EE_OK:
            raise RuntimeError(f"espeak_Synth failed with code {err}")

    def synthesize(self, text: str, sample_rate: int) -> bytes:
        """Whole utterance as one PCM buffer (int16 LE mono at sample_rate)."""
        out = bytearray()
        self.stream(text, sample_rate, out.extend, chunk_ms=1000)
        return bytes(out)

    def iter_synthesize(self, text: str, sample_rate: int, chunk_ms: int = 40) -> Iterator[bytes]:
        """Yield PCM chunks while espeak is still producing the rest (worker thread).

        Closing the iterator early aborts synthesis.
        """
        chunks: queue.Queue[bytes | BaseException | None] = queue.Queue()
        stop = threading.Event()

        def deliver(chunk: bytes) -> bool:
            chunks.put(chunk)
            return not stop.is_set()

        def produce() -> None:
            try:
                self.stream(text, sample_rate, deliver, chunk_ms)
            except BaseException as exc:  # re-raised in the consumer
                chunks.put(exc)
            finally:
                chunks.put(None)

        worker = threading.Thread(target=produce, name="espeak-synth", daemon=True)
        worker.start()
        try:
            while (item := chunks.get()) is not None:
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            stop.set()
            worker.join()

    def phonemes(self, text: str) -> str:
        """espeak's IPA transcription of ``text`` (words separated by spaces)."""
        with _LOCK:
            lib = _library()
            self._select(lib)
            buf = ctypes.c_char_p(text.encode("utf-8"))
            ptr = ctypes.pointer(buf)
            parts: list[str] = []
            # IPA (bit 1) with "_" (0x5f) between phonemes; returns one clause per call.
            while buf.value:
                out = lib.espeak_TextToPhonemes(ptr, _ESPEAKCHARS_UTF8, 0x02 | (ord("_") << 8))
                if out:
                    parts.append(out.decode("utf-8", "replace").strip())
            return " ".join(p for p in parts if p)
