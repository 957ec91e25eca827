"""Embedded streaming STT on pocketsphinx, adapted to the interview it listens to.

Why: offline mode has no cloud STT, and pocketsphinx (PyPI wheel with an en-us
model) is the only recogniser that runs here. Its general language model is weak
on interview vocabulary (idempotency, Kubernetes, ledger...), so each service
builds a language model from the interview's own text (questions, rubric,
example answers) and mixes in the most frequent general-English words and
bigrams so answers that are not in that text still decode. Words the
pronunciation dictionary lacks get phones from espeak-ng (IPA -> ARPAbet);
words that cannot be converted are dropped from the model and logged.

Streaming: audio is fed to the decoder as it arrives (20 ms chunks, ~2 ms each),
with a pre-roll buffer so speech before the VAD start is kept. The VAD lives in
the user aggregator *after* this service, so the VAD start/stop frames arrive
upstream; on the stop frame the utterance is finalised inline (fwdflat pass off:
end_utt ~2 ms + bestpath a few ms) and a finalized ``TranscriptionFrame`` is
pushed downstream at once, which lets the aggregator end the turn without
waiting for the STT timeout. Threads would not help: the pocketsphinx binding
holds the GIL while decoding.
"""

from __future__ import annotations

import asyncio
import atexit
import math
import re
import shutil
import tempfile
import threading
from collections import deque
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import soxr
from loguru import logger
from pipecat.frames.frames import (
    CancelFrame,
    EndFrame,
    Frame,
    InterimTranscriptionFrame,
    StartFrame,
    TranscriptionFrame,
    VADUserStartedSpeakingFrame,
    VADUserStoppedSpeakingFrame,
)
from pipecat.services.settings import STTSettings
from pipecat.services.stt_service import STTService
from pipecat.transcriptions.language import Language
from pipecat.utils.time import time_now_iso8601
from pocketsphinx import Decoder, NGramModel, get_model_path
from pocketsphinx.lm import ArpaBoLM

from services.espeak import EspeakSynthesizer

DECODER_RATE = 16000
_PREROLL_SLICE = DECODER_RATE // 10 * 2  # 100 ms of 16-bit audio
# Measured speech-end -> final transcript with VAD stop_secs=0.2 (scripts/measure_stt_accuracy.py):
# 0.2 s of VAD silence + a few ms of finalisation, with headroom.
POCKETSPHINX_TTFS_P99 = 0.3

# Language-model mixing (chosen by scripts/measure_stt_accuracy.py on on-topic answers
# that are not in the interview text): general-English pseudo-counts worth
# BACKGROUND_MASS x the interview text, spread over the top BACKGROUND_WORDS unigrams
# and the bigrams among the top BACKGROUND_BIGRAM_WORDS words.
BACKGROUND_MASS = 0.3
BACKGROUND_WORDS = 10000
BACKGROUND_BIGRAM_WORDS = 300
_MIN_PSEUDO_COUNT = 0.02
_LOG_BASE = math.log(1.0001)  # pocketsphinx log-probabilities are in base 1.0001

# espeak-ng IPA -> CMU ARPAbet (the en-us acoustic model's phone set).
_IPA_TO_ARPABET = {
    "ɑːɹ": "AA R", "ɔːɹ": "AO R", "oːɹ": "AO R", "ɛɹ": "EH R", "ɪɹ": "IH R", "ʊɹ": "UH R",
    "aɪɚ": "AY ER", "aɪə": "AY AH", "aʊɚ": "AW ER", "iə": "IY AH", "əl": "AH L",
    "ɑː": "AA", "ɑ": "AA", "æ": "AE", "a": "AE", "ʌ": "AH", "ə": "AH", "ɐ": "AH",
    "ɚ": "ER", "ɜː": "ER", "ɜ": "ER", "ɝ": "ER", "ɔː": "AO", "ɔ": "AO", "oː": "AO",
    "aɪ": "AY", "aʊ": "AW", "eɪ": "EY", "e": "EH", "ɛ": "EH", "ɪ": "IH", "ᵻ": "IH",
    "i": "IY", "iː": "IY", "oʊ": "OW", "o": "OW", "ɔɪ": "OY", "ʊ": "UH", "u": "UW", "uː": "UW",
    "tʃ": "CH", "dʒ": "JH", "n̩": "AH N", "l̩": "AH L",
    "b": "B", "d": "D", "f": "F", "ɡ": "G", "g": "G", "h": "HH", "j": "Y", "k": "K",
    "l": "L", "m": "M", "n": "N", "ŋ": "NG", "p": "P", "ɹ": "R", "r": "R", "s": "S",
    "ʃ": "SH", "t": "T", "θ": "TH", "ð": "DH", "v": "V", "w": "W", "z": "Z", "ʒ": "ZH",
    "ɾ": "T", "ʔ": "T", "x": "K", "ç": "HH", "ɬ": "L",
}  # fmt: skip

_WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)*|\d+")
_SENTENCE_END = re.compile(r"[\n.;?!:]+")
_ONES = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()

_BUILD_LOCK = threading.Lock()
_workdir = Path(tempfile.mkdtemp(prefix="pocketsphinx-lm-"))
atexit.register(shutil.rmtree, _workdir, True)


def spell_number(n: int) -> str:
    """0..999999 as words, the way a candidate says it ("ten", "two thousand twenty")."""
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n // 10] + ("" if n % 10 == 0 else " " + _ONES[n % 10])
    if n < 1000:
        rest = "" if n % 100 == 0 else " " + spell_number(n % 100)
        return f"{_ONES[n // 100]} hundred{rest}"
    if n < 1_000_000:
        rest = "" if n % 1000 == 0 else " " + spell_number(n % 1000)
        return f"{spell_number(n // 1000)} thousand{rest}"
    return " ".join(_ONES[int(d)] for d in str(n))


def sentences(text: str) -> list[list[str]]:
    """Split free text into sentences of word tokens (original case, numbers spelled)."""
    out: list[list[str]] = []
    for chunk in _SENTENCE_END.split(text.replace("-", " ").replace("/", " ")):
        tokens: list[str] = []
        for token in _WORD.findall(chunk):
            tokens += spell_number(int(token)).split() if token.isdigit() else [token]
        if tokens:
            out.append(tokens)
    return out


def ipa_to_arpabet(ipa: str) -> str | None:
    """espeak IPA ("k_ˌuː_b_ɚ_n...") to ARPAbet phones, or None if a symbol is unknown."""
    phones: list[str] = []
    for token in ipa.replace(" ", "_").replace("ˈ", "").replace("ˌ", "").split("_"):
        while token:
            for size in range(min(3, len(token)), 0, -1):
                if token[:size] in _IPA_TO_ARPABET:
                    phones += _IPA_TO_ARPABET[token[:size]].split()
                    token = token[size:]
                    break
            else:
                return None
    return " ".join(phones) or None


@lru_cache(maxsize=1)
def _dictionary() -> dict[str, list[str]]:
    """The bundled CMU dictionary: word -> pronunciations."""
    entries: dict[str, list[str]] = {}
    with open(get_model_path("en-us/cmudict-en-us.dict"), encoding="utf-8") as f:
        for line in f:
            word, _, phones = line.strip().partition(" ")
            entries.setdefault(word.split("(")[0], []).append(phones.strip())
    return entries


@lru_cache(maxsize=1)
def _general_model() -> tuple[NGramModel, list[tuple[float, str]]]:
    """General en-us LM and the dictionary words ranked by unigram probability."""
    model = NGramModel.readfile(get_model_path("en-us/en-us.lm.bin"))
    ranked = sorted(((model.prob([w]), w) for w in _dictionary()), reverse=True)
    return model, [(math.exp(lp * _LOG_BASE), w) for lp, w in ranked[:BACKGROUND_WORDS]]


@dataclass
class AdaptedModel:
    """Files for a decoder adapted to one interview, plus what adaptation did."""

    lm_path: str
    dict_path: str
    generated: dict[str, str] = field(default_factory=dict)  # word -> phones from espeak
    dropped: list[str] = field(default_factory=list)  # words with no usable phones


def build_adapted_model(vocabulary_text: str) -> AdaptedModel:
    """Domain LM from the interview text + general-English background (cached per text).

    Serialised so sessions starting together never read a half-written model file.
    """
    with _BUILD_LOCK:
        return _build_adapted_model(vocabulary_text)


@lru_cache(maxsize=16)
def _build_adapted_model(vocabulary_text: str) -> AdaptedModel:
    pronunciations = _dictionary()
    g2p = EspeakSynthesizer("en-us")
    generated: dict[str, str] = {}
    dropped: set[str] = set()
    lines: list[str] = []
    for tokens in sentences(vocabulary_text):
        words: list[str] = []
        for token in tokens:
            word = token.lower()
            if word not in pronunciations and word not in generated and word not in dropped:
                phones = ipa_to_arpabet(g2p.phonemes(token))
                if phones:
                    generated[word] = phones
                else:
                    dropped.add(word)
            if word in pronunciations or word in generated:
                words.append(word)
        if words:
            lines.append(" ".join(words))
    if not lines:
        raise ValueError("vocabulary_text has no usable words")

    lm = ArpaBoLM(text="\n".join(lines), add_start=True)
    pseudo_total = BACKGROUND_MASS * sum(lm.grams_1.values())
    general, ranked = _general_model()
    for prob, word in ranked:
        lm.grams_1[word] += pseudo_total * prob
    heads = ranked[:BACKGROUND_BIGRAM_WORDS]
    for p_head, head in heads:
        for _, word in heads:
            count = pseudo_total * p_head * math.exp(general.prob([word, head]) * _LOG_BASE)
            if count > _MIN_PSEUDO_COUNT:
                lm.grams_2[head][word] += count
    lm.compute()

    stem = _workdir / f"lm-{abs(hash(vocabulary_text)):x}"
    lm_path, dict_path = f"{stem}.arpa", f"{stem}.dict"
    lm.write_file(lm_path)
    with open(dict_path, "w", encoding="utf-8") as f:
        for word in sorted(w for w in lm.grams_1 if w not in ("<s>", "</s>")):
            for i, phones in enumerate(pronunciations.get(word) or [generated[word]]):
                f.write(f"{word}{'' if i == 0 else f'({i + 1})'} {phones}\n")
    if dropped:
        logger.info(f"pocketsphinx LM: no pronunciation for {sorted(dropped)}; dropped from the model")
    return AdaptedModel(lm_path, dict_path, generated, sorted(dropped))


def create_decoder(vocabulary_text: str = "") -> Decoder:
    """A decoder on the adapted model, or on the general en-us model if no text is given."""
    options = dict(loglevel="ERROR", fwdflat=False, bestpath=True)
    if vocabulary_text.strip():
        model = build_adapted_model(vocabulary_text)
        options.update(lm=model.lm_path, dict=model.dict_path)
    return Decoder(**options)


class PocketsphinxSTTService(STTService):
    """Streaming offline STT; needs VAD frames (user aggregator or VADProcessor) to segment."""

    def __init__(
        self,
        vocabulary_text: str = "",
        *,
        language: Language = Language.EN,
        preroll_secs: float = 1.0,
        interim_interval_secs: float = 0.5,
        ttfs_p99_latency: float | None = POCKETSPHINX_TTFS_P99,
        settings: STTSettings | None = None,
        **kwargs,
    ) -> None:
        """Args: interview text for the LM ("" = general model), audio kept before the
        VAD start, how often to emit interim transcripts (0 disables)."""
        store = STTSettings(model=None, language=language)
        if settings is not None:
            store.apply_update(settings)
        super().__init__(settings=store, ttfs_p99_latency=ttfs_p99_latency, **kwargs)
        self._vocabulary_text = vocabulary_text
        self._preroll_bytes = int(preroll_secs * DECODER_RATE) * 2
        self._interim_bytes = int(interim_interval_secs * DECODER_RATE) * 2
        self._decoder: Decoder | None = None
        self._resampler: soxr.ResampleStream | None = None
        self._preroll: deque[bytes] = deque()
        self._preroll_size = 0
        self._in_utterance = False
        self._since_interim = 0
        self._last_interim = ""

    def can_generate_metrics(self) -> bool:
        return True

    async def start(self, frame: StartFrame) -> None:
        await super().start(frame)
        if self._decoder is None:
            # The first session of an interview builds its LM (~0.5 s, then cached).
            self._decoder = await asyncio.to_thread(create_decoder, self._vocabulary_text)
        if self.sample_rate != DECODER_RATE:
            self._resampler = soxr.ResampleStream(self.sample_rate, DECODER_RATE, 1, dtype="int16")

    async def stop(self, frame: EndFrame) -> None:
        self._abandon_utterance()
        await super().stop(frame)

    async def cancel(self, frame: CancelFrame) -> None:
        self._abandon_utterance()
        await super().cancel(frame)

    async def run_stt(self, audio: bytes) -> AsyncGenerator[Frame | None, None]:
        """Feed the chunk to the decoder mid-utterance, else keep it as pre-roll."""
        if self._decoder is None:
            return
        pcm = self._to_decoder_rate(audio)
        if not pcm:  # the resampler holds back its first few ms
            return
        if not self._in_utterance:
            self._preroll.append(pcm)
            self._preroll_size += len(pcm)
            while self._preroll and self._preroll_size - len(self._preroll[0]) >= self._preroll_bytes:
                self._preroll_size -= len(self._preroll.popleft())
            return
        self._decoder.process_raw(pcm, False, False)
        self._since_interim += len(pcm)
        if self._interim_bytes and self._since_interim >= self._interim_bytes:
            self._since_interim = 0
            hyp = self._decoder.hyp()
            text = hyp.hypstr if hyp else ""
            if text and text != self._last_interim:
                self._last_interim = text
                yield InterimTranscriptionFrame(text, self._user_id, time_now_iso8601(), self._language())

    async def _handle_vad_user_started_speaking(self, frame: VADUserStartedSpeakingFrame) -> None:
        await super()._handle_vad_user_started_speaking(frame)
        if self._decoder is None or self._in_utterance:
            return
        self._decoder.start_utt()
        self._in_utterance = True
        self._since_interim, self._last_interim = 0, ""
        preroll = b"".join(self._preroll)
        self._preroll.clear()
        self._preroll_size = 0
        # Up to a second of audio: decode it in 100 ms slices so other sessions on
        # this event loop get a turn in between (~8 ms each).
        for i in range(0, len(preroll), _PREROLL_SLICE):
            self._decoder.process_raw(preroll[i : i + _PREROLL_SLICE], False, False)
            await asyncio.sleep(0)

    async def _handle_vad_user_stopped_speaking(self, frame: VADUserStoppedSpeakingFrame) -> None:
        await super()._handle_vad_user_stopped_speaking(frame)  # starts the TTFB measurement
        text = self._finish_utterance()
        if text:
            await self.push_frame(
                TranscriptionFrame(
                    text, self._user_id, time_now_iso8601(), self._language(), finalized=True
                )
            )

    def _finish_utterance(self) -> str:
        """End the utterance (everything fed so far belongs to it) and return its text."""
        if self._decoder is None or not self._in_utterance:
            return ""
        self._in_utterance = False
        self._decoder.end_utt()
        hyp = self._decoder.hyp()
        return hyp.hypstr.strip() if hyp else ""

    def _abandon_utterance(self) -> None:
        if self._decoder is not None and self._in_utterance:
            self._in_utterance = False
            self._decoder.end_utt()

    def _to_decoder_rate(self, audio: bytes) -> bytes:
        if self._resampler is None:
            return audio
        samples = np.frombuffer(audio, dtype=np.int16)
        return self._resampler.resample_chunk(samples).tobytes()

    def _language(self) -> Language:
        language = self._settings.language
        return language if isinstance(language, Language) else Language.EN
