"""Does an answer read as finished? The text signals of the interview turn-stop decision.

Why text: on synthetic and on many real voices, prosody falls at every phrase end, so an
audio model (Smart Turn) calls most thinking pauses "complete". Words are a better veto:
"I would use a queue and" is not an answer anyone ends on. These rules are deliberately
simple and explainable; each verdict carries the reason that goes into events.jsonl.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Last words nobody ends an answer on: conjunctions, prepositions, articles, auxiliaries,
# fillers. ("so" and "then" end answers rarely enough to count as unfinished.)
_CONNECTIVES = frozenset(
    [
        "and",
        "but",
        "or",
        "nor",
        "so",
        "because",
        "since",
        "although",
        "though",
        "while",
        "whereas",
        "if",
        "unless",
        "until",
        "when",
        "whenever",
        "where",
        "which",
        "who",
        "whom",
        "whose",
        "that",
        "than",
        "then",
        "also",
        "plus",
        "like",
    ]
)
_PREPOSITIONS = frozenset(
    [
        "to",
        "of",
        "in",
        "on",
        "at",
        "by",
        "for",
        "from",
        "with",
        "without",
        "into",
        "onto",
        "about",
        "over",
        "under",
        "between",
        "through",
        "across",
        "after",
        "before",
        "during",
        "against",
        "towards",
        "toward",
        "via",
        "per",
        "around",
        "behind",
    ]
)
_DETERMINERS = frozenset(
    [
        "a",
        "an",
        "the",
        "my",
        "our",
        "your",
        "their",
        "his",
        "her",
        "its",
        "this",
        "that",
        "these",
        "those",
        "some",
        "any",
        "each",
        "every",
    ]
)
_AUXILIARIES = frozenset(
    [
        "would",
        "will",
        "could",
        "can",
        "should",
        "might",
        "must",
        "may",
        "shall",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "am",
        "do",
        "does",
        "did",
        "have",
        "has",
        "had",
        "i'd",
        "i'll",
        "we'd",
        "we'll",
        "you'd",
        "it's",
        "i'm",
        "we're",
        "they're",
        "there's",
        "let's",
        "gonna",
        "wanna",
    ]
)
_FILLERS = frozenset(["um", "uh", "er", "erm", "hmm", "mm", "uhm", "ah"])
_FILLER_PHRASES = ("you know", "i mean", "kind of", "sort of", "and then", "let me think", "let me see")
_WORD = re.compile(r"[a-z']+")


@dataclass(frozen=True)
class TextVerdict:
    finished: bool
    reason: str
    words: int
    # Only the recogniser's punctuation says "unfinished" (a trailing comma): Whisper guesses it
    # from the intonation of the segment, so it is weaker evidence than a last word like "and".
    punctuation_only: bool = False


def read_answer(text: str) -> TextVerdict:
    """Whether ``text`` (the answer so far, as transcribed) reads as a finished answer."""
    stripped = text.strip()
    words = _WORD.findall(stripped.lower())
    if not words:
        return TextVerdict(False, "no words yet", 0)
    trailing = next((end for end in ("...", "…", ",", "-", "—", ":", ";") if stripped.endswith(end)), None)
    verdict = _read_words(words)
    if trailing is not None and verdict.finished:
        return TextVerdict(False, f"trails off with '{trailing}'", len(words), punctuation_only=True)
    return verdict


def _read_words(words: list[str]) -> TextVerdict:
    tail = " ".join(words[-3:])
    for phrase in _FILLER_PHRASES:
        if tail.endswith(phrase):
            return TextVerdict(False, f"ends on '{phrase}'", len(words))
    last = words[-1]
    for kind, vocabulary in (
        ("a connective", _CONNECTIVES),
        ("a preposition", _PREPOSITIONS),
        ("an article", _DETERMINERS),
        ("an auxiliary", _AUXILIARIES),
        ("a filler", _FILLERS),
    ):
        if last in vocabulary:
            return TextVerdict(False, f"ends on {kind} ('{last}')", len(words))
    return TextVerdict(True, "reads as a complete sentence", len(words))


_SHORT_ANSWER_OPENINGS = (
    "is there",
    "are there",
    "do you",
    "did you",
    "does",
    "have you",
    "would you",
    "could you confirm",
    "anything else",
    "any questions",
    "any other",
    "can you hear",
    "are you ready",
    "shall we",
)


def expected_min_words(question: str, default: int) -> int:
    """How many words an answer to ``question`` needs before it reads as an answer.

    Yes/no and "anything else?" questions are answered in a word; open questions
    ("tell me about...", "how would you design...") take a sentence or more.
    """
    last_question = question.strip().lower().rsplit(".", 1)[-1].strip()
    if last_question.startswith(_SHORT_ANSWER_OPENINGS):
        return 1
    return default
