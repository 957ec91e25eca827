"""Transcribe a short answer without paying for a 30-second Whisper window.

What faster-whisper lacks: ``WhisperModel.transcribe`` pads every segment's features to
3000 frames (``pad_or_trim``: 30 s of audio) before the encoder, so a 2-second answer costs
the same encoder pass as a 30-second one — ~300-400 ms of the ~450-550 ms a turn's
transcript takes with tiny.en on this 2-core machine. CTranslate2's Whisper encoder accepts
shorter inputs, and the decoder attends to whatever the encoder produced; encoding only the
answer plus three seconds of padding is several times faster and, on our accuracy corpus, hears the
same words (``scripts/measure_stt_accuracy.py --windows full short`` prints both).

Whisper was trained on 30-second windows, so a short window is the fast path, not the only
one: a result faster-whisper itself would retry (too repetitive, too unlikely) falls back to
the full ``transcribe`` with its temperature fallbacks. Audio longer than ``MAX_SHORT_SECS``
always takes the full path.
"""

from __future__ import annotations

from typing import Any

import numpy as np

MAX_SHORT_SECS = 25.0  # longer audio: the standard 30 s path (and its seek windows)
# Silence after the audio (log-mel frames, 10 ms each). With only 1 s, Whisper ended 4 of 10
# finished sentences with a comma (it hears speech about to go on), which reads as an
# unfinished answer; with 3 s, 1 of 10 (the full 30 s window: 0 of 10).
PAD_FRAMES = 300
ROUND_FRAMES = 100  # window lengths in whole seconds, so the encoder sees few distinct shapes
FULL_WINDOW_FRAMES = 3000
# faster-whisper's defaults for falling back to a retry (TranscriptionOptions)
COMPRESSION_RATIO_LIMIT = 2.4
LOG_PROB_LIMIT = -1.0
# Tokens the decoder may produce per second of audio (speech is ~4): a greedy decode that falls
# into a loop ("Merchant merchant merchant ...") stops here instead of at Whisper's 448 tokens,
# which took 1.3-2 s on a one-word segment here before the loop was sent to the full path.
TOKENS_PER_SEC = 12
# A phrase said again at once ("and retries and retries and ..."): a loop the compression-ratio
# check misses on short text (too few characters to compress). Words in a row that may repeat:
# one word three times ("no, no, no" is speech), a phrase of two to eight words twice.
LOOP_WORD_REPEATS = 3
LOOP_PHRASE_WORDS = range(2, 9)


class ShortWindowDecoder:
    """Greedy Whisper decoding on an encoder window cut to the audio's length.

    Called from worker threads inside a ``SharedWhisperModel`` pool slot; CTranslate2 runs
    up to ``num_workers`` of them at once (the counters are then approximate).
    """

    def __init__(self, model: Any) -> None:
        from faster_whisper.tokenizer import Tokenizer
        from faster_whisper.transcribe import get_suppressed_tokens

        self._model = model
        self._tokenizer = Tokenizer(model.hf_tokenizer, model.model.is_multilingual, task="transcribe", language="en")
        self._suppress_tokens = get_suppressed_tokens(self._tokenizer, [-1])
        self.fast = 0  # transcriptions served by the short window
        self.fallbacks = 0  # results sent back to the full path

    def transcribe(
        self, audio: np.ndarray, *, initial_prompt: str | None = None, hotwords: str | None = None
    ) -> list[Any] | None:
        """Segments like faster-whisper's, or None when the full 30 s path should decide."""
        from faster_whisper.transcribe import Segment, get_compression_ratio

        sampling_rate = self._model.feature_extractor.sampling_rate
        if len(audio) / sampling_rate > MAX_SHORT_SECS:
            return None
        features = self._model.feature_extractor(audio)
        content_frames = features.shape[-1] - 1
        window = min(FULL_WINDOW_FRAMES, -(-(content_frames + PAD_FRAMES) // ROUND_FRAMES) * ROUND_FRAMES)
        segment = np.pad(features[:, :content_frames], ((0, 0), (0, window - content_frames)))
        encoder_output = self._model.encode(segment)
        previous = self._tokenizer.encode(" " + initial_prompt.strip()) if initial_prompt else []
        prompt = self._model.get_prompt(self._tokenizer, previous, without_timestamps=True, hotwords=hotwords)
        result = self._model.model.generate(
            encoder_output,
            [prompt],
            beam_size=1,
            max_length=min(self._model.max_length, len(prompt) + 8 + int(TOKENS_PER_SEC * len(audio) / sampling_rate)),
            return_scores=True,
            return_no_speech_prob=True,
            suppress_blank=True,
            suppress_tokens=self._suppress_tokens,
        )[0]
        tokens = result.sequences_ids[0]
        avg_logprob = result.scores[0] * len(tokens) / (len(tokens) + 1)
        text = self._tokenizer.decode(tokens)
        compression_ratio = get_compression_ratio(text.strip())
        doubtful = avg_logprob < LOG_PROB_LIMIT and result.no_speech_prob < 0.6
        if compression_ratio > COMPRESSION_RATIO_LIMIT or doubtful or repeats_itself(text):
            self.fallbacks += 1
            return None
        self.fast += 1
        duration = content_frames * self._model.feature_extractor.time_per_frame
        return [
            Segment(
                id=1, seek=0, start=0.0, end=round(duration, 3), text=text, tokens=tokens,
                avg_logprob=avg_logprob, compression_ratio=compression_ratio,
                no_speech_prob=result.no_speech_prob, words=None, temperature=0.0,
            )
        ]  # fmt: skip


def repeats_itself(text: str) -> bool:
    """Whether the decode looped: a word said three times in a row, or a 2-8 word phrase twice.

    A person who stammers a phrase twice costs one full-window pass (which then keeps it);
    a loop that slipped through would put words into the candidate's mouth.
    """
    words = ["".join(ch for ch in word.lower() if ch.isalnum()) for word in text.split()]
    words = [w for w in words if w]
    for start in range(len(words)):
        if words[start : start + LOOP_WORD_REPEATS] == [words[start]] * LOOP_WORD_REPEATS:
            return True
        for size in LOOP_PHRASE_WORDS:
            if len(words) >= start + 2 * size and words[start : start + size] == words[start + size : start + 2 * size]:
                return True
    return False
