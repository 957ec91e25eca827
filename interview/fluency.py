"""Does a transcript read like spoken English at all? A rough, explainable check.

Why: the offline scorer compares vocabulary, and a speech recogniser that fails (noise, a
weak acoustic model, an interview-adapted language model) tends to emit the interview's own
keywords in the wrong order. Bag-of-words similarity scores such word salad as highly as a
real answer. Real speech is roughly a third to a half function words ("the", "we", "so",
"because") and rarely puts two function words together that cannot stand together
("the the", "a we", "we is", "would is"); keyword salad has few function words, and a
recogniser's guesses break those rules.
This does not judge content and never claims to; it only says when the scorer cannot
trust the words it was given. Deterministic, no models, no downloads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import pairwise

from interview.text_similarity import STOPWORDS, normalise

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
ARTICLES = frozenset({"the", "a", "an"})
# Function words that can follow an article ("the most", "a few", "the other").
AFTER_ARTICLE = frozenset(
    {"most", "only", "same", "other", "very", "more", "few", "much", "own", "first", "next", "last"}
)
PREPOSITIONS = frozenset({"of", "to", "in", "on", "at", "by", "for", "with", "from", "into", "about", "under", "over"})
SUBJECTS = frozenset({"i", "we", "they", "you", "he", "she"})
MODALS = frozenset({"would", "could", "should", "will", "can", "might", "must"})
FINITE_BE_HAVE = frozenset({"is", "are", "was", "were", "am", "has", "does"})
# Subject + verb forms that never agree ("we returns" is caught by the -s rule below).
DISAGREE = {
    "i": frozenset({"is", "are", "has", "does", "were"}),
    "we": frozenset({"is", "am", "was", "has", "does"}),
    "they": frozenset({"is", "am", "was", "has", "does"}),
    "you": frozenset({"is", "am", "has", "does"}),
    "he": frozenset({"are", "am", "were", "have", "do"}),
    "she": frozenset({"are", "am", "were", "have", "do"}),
}
# Singular nouns that end in -s, so "a process" is not taken for "a payments".
SINGULAR_S_ENDINGS = ("ss", "us", "is", "ys", "os", "as", "ics", "ies", "ness", "sis")

FUNCTION_SHARE_FLOOR = 0.10  # at or below: no sign of sentences at all
FUNCTION_SHARE_FLUENT = 0.28  # at or above: as many function words as ordinary speech
BROKEN_PAIR_CEILING = 0.06  # this share of broken word pairs (beyond the slips allowed) means fluency 0
WORDS_PER_SLIP = 40  # one break per this many words is forgiven: real speech slips too
MIN_WORDS = 4


@dataclass(frozen=True)
class Fluency:
    """How much an answer reads like speech (0..1), with the numbers behind it."""

    score: float
    words: int
    function_share: float
    broken_pairs: int  # neighbours that cannot stand together

    def describe(self) -> str:
        return (
            f"fluency {self.score:.2f} ({self.words} words, {self.function_share:.0%} function words, "
            f"{self.broken_pairs} broken word pair{'s' if self.broken_pairs != 1 else ''})"
        )


def fluency(text: str) -> Fluency:
    """Score 1.0 for ordinary speech, toward 0 for keyword salad; very short answers are not judged (1.0)."""
    words = _WORD.findall(normalise(text))
    if len(words) < MIN_WORDS:
        return Fluency(1.0, len(words), 0.0, 0)
    share = sum(w in STOPWORDS for w in words) / len(words)
    broken = sum(_broken(a, b) for a, b in pairwise(words))
    share_part = _ramp(share, FUNCTION_SHARE_FLOOR, FUNCTION_SHARE_FLUENT)
    pair_part = 1.0 - _ramp(max(0, broken - len(words) // WORDS_PER_SLIP) / (len(words) - 1), 0.0, BROKEN_PAIR_CEILING)
    return Fluency(round(share_part * pair_part, 3), len(words), round(share, 3), broken)


def _broken(first: str, second: str) -> bool:
    """Two neighbours that cannot stand together in English speech."""
    if first == second and first in STOPWORDS:
        return True  # "the the", "of of" (a repeated content word can be emphasis)
    if first in ARTICLES:
        if second in STOPWORDS:
            return second not in AFTER_ARTICLE  # "the we", "a the"
        return first == "a" and _plural(second)  # "a payments"
    if first in SUBJECTS:
        if second in ARTICLES or second in DISAGREE[first]:
            return True  # "i the", "we is"
        return first in ("i", "we", "they", "you") and second.endswith("s") and _verb_s(second)
    if first in MODALS:
        return second in FINITE_BE_HAVE  # "would is"
    return first in PREPOSITIONS and second in PREPOSITIONS  # "of to"


def _plural(word: str) -> bool:
    return len(word) > 3 and word.endswith("s") and not word.endswith(SINGULAR_S_ENDINGS)


def _verb_s(word: str) -> bool:
    """A third-person verb form after "we"/"they" ("we returns"): words in -s that are not nouns we can tell."""
    return word in {
        "returns",
        "says",
        "goes",
        "makes",
        "takes",
        "uses",
        "gets",
        "needs",
        "wants",
        "works",
        "runs",
        "writes",
        "sends",
        "stores",
        "keeps",
        "calls",
        "checks",
        "tests",
        "handles",
        "owns",
        "cares",
    }


def _ramp(value: float, low: float, high: float) -> float:
    return min(1.0, max(0.0, (value - low) / (high - low)))
