"""Small, deterministic text tools for scoring: tokens, TF-IDF vectors, sentences, verbatim checks.

Why not scikit-learn or embeddings: the offline scorer must run anywhere with no downloads,
give identical output on every run and stay explainable ("this answer is closest to the
score-10 anchor"). Pure Python is plenty for a few dozen short answers.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence

from interview.spoken_numbers import numbers_to_words

Vector = dict[str, float]

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'", "\u201c": '"', "\u201d": '"'})
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+")
_NON_WORD = re.compile(r"[^a-z0-9']+")

STOPWORDS = frozenset(
    [
        "a",
        "about",
        "above",
        "after",
        "again",
        "all",
        "also",
        "am",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "done",
        "down",
        "during",
        "each",
        "few",
        "for",
        "from",
        "further",
        "get",
        "got",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "him",
        "his",
        "how",
        "i",
        "i'd",
        "i'll",
        "i'm",
        "i've",
        "if",
        "in",
        "into",
        "is",
        "it",
        "it's",
        "its",
        "itself",
        "just",
        "let's",
        "me",
        "might",
        "more",
        "most",
        "much",
        "my",
        "myself",
        "no",
        "nor",
        "not",
        "now",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "ours",
        "out",
        "over",
        "own",
        "really",
        "same",
        "she",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "that's",
        "the",
        "their",
        "theirs",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "us",
        "very",
        "was",
        "we",
        "we'd",
        "we're",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
        "yeah",
        "um",
        "uh",
        "like",
        "well",
        "okay",
        "ok",
    ]
)

_SUFFIXES = ("ations", "ation", "ings", "ing", "ies", "ied", "es", "ed", "ly", "s")


def normalise(text: str) -> str:
    """Lower case, unified quotes/apostrophes, numbers in words: the form every comparison starts from."""
    return numbers_to_words(text.translate(_APOSTROPHES)).lower()


def stem(word: str) -> str:
    """Crude suffix stripping so "retries", "retried" and "retry" meet; deterministic, not linguistic."""
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            base = word[: -len(suffix)]
            return base + "y" if suffix in ("ies", "ied") else base
    return word


def content_words(text: str) -> list[str]:
    """Stemmed words without stopwords, in order."""
    return [stem(w) for w in _WORD.findall(normalise(text)) if w not in STOPWORDS]


def features(text: str) -> defaultdict[str, float]:
    """Word stems plus character 4-grams of each stem (robust to inflection and STT spelling)."""
    counts: defaultdict[str, float] = defaultdict(float)
    for word in content_words(text):
        counts["w:" + word] += 1.0
        padded = f" {word} "
        for i in range(len(padded) - 3):
            counts["c:" + padded[i : i + 4]] += 0.25
    return counts


class TfIdf:
    """TF-IDF over a fixed reference corpus; unseen features get the highest IDF."""

    def __init__(self, corpus: Iterable[str]) -> None:
        docs = [set(features(doc)) for doc in corpus]
        self._n = len(docs)
        document_frequency: Counter[str] = Counter()
        for doc in docs:
            document_frequency.update(doc)
        self._idf = {f: self._weight(df) for f, df in document_frequency.items()}
        self._unseen = self._weight(0)

    def _weight(self, df: int) -> float:
        return math.log((1 + self._n) / (1 + df)) + 1.0

    def vector(self, text: str) -> Vector:
        """Sub-linear TF times IDF, L2-normalised (empty text -> empty vector)."""
        raw = {f: (1.0 + math.log(1.0 + tf)) * self._idf.get(f, self._unseen) for f, tf in features(text).items()}
        return _unit(raw)


def combine(vectors: Sequence[tuple[Vector, float]]) -> Vector:
    """Weighted sum of vectors, re-normalised (e.g. an anchor's example answer + its description)."""
    total: dict[str, float] = {}
    for vector, weight in vectors:
        for key, value in vector.items():
            total[key] = total.get(key, 0.0) + weight * value
    return _unit(total)


def cosine(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(value * b.get(key, 0.0) for key, value in a.items())


def _unit(vector: dict[str, float]) -> Vector:
    norm = math.sqrt(sum(v * v for v in vector.values()))
    return {k: v / norm for k, v in sorted(vector.items())} if norm else {}


def split_sentences(text: str) -> list[str]:
    """Sentences as verbatim substrings of `text` (only surrounding whitespace removed)."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


def match_form(text: str) -> str:
    """Form used for the verbatim check: case, quotes, punctuation and whitespace do not matter."""
    return " ".join(_NON_WORD.sub(" ", normalise(text)).replace(" '", " ").replace("' ", " ").split())


def occurs_verbatim(quote: str, texts: Iterable[str]) -> bool:
    """True when the quote's words appear, contiguous and in order, inside one of `texts`."""
    needle = match_form(quote)
    if not needle:
        return False
    return any(f" {needle} " in f" {match_form(text)} " for text in texts)


def containment(part: str, whole: str) -> float:
    """Share of `part`'s content words that occur in `whole` (1.0: all of them)."""
    wanted = set(content_words(part))
    if not wanted:
        return 0.0
    return len(wanted & set(content_words(whole))) / len(wanted)
