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

    "Anything else?" and a few yes/no forms are answered in a word; open questions ("tell me
    about...", "how would you design...") take a sentence or more. Deliberately narrow: in a
    research interview "Was the move a big deal for you?" invites a story, not a "yes".
    """
    questions = [q for q in re.split(r"(?<=[.?!])\s+", question.strip()) if q.strip()]
    last_question = questions[-1].lower() if questions else ""
    if last_question.startswith(_SHORT_ANSWER_OPENINGS):
        return 1
    return default


# The turn handed over: a question to the interviewer, or a closing phrase. Few and generic on
# purpose: they say "I am done, your turn" in any interview, whatever the answer was about.
_CLOSINGS = (
    "that's it",
    "that is it",
    "that's all",
    "that is all",
    "that's everything",
    "that is everything",
    "that's about it",
    "nothing else",
    "nothing more",
    "i'm done",
    "i am done",
    "that's my answer",
    "that's all i have",
    "that's all i've got",
)
_ADDRESSED = frozenset(["you", "your", "you're", "you'd", "yours"])
_WH_WORDS = frozenset(["what", "why", "how", "which", "where", "who", "when", "whats", "what's"])
_CHECKS = frozenset(["should i", "shall i", "do i", "can i", "is that", "does that", "is this", "was that", "did that"])
_SENTENCES = re.compile(r"[^.?!]+[.?!]*")


def last_sentence(text: str) -> str:
    sentences = [s.strip() for s in _SENTENCES.findall(text.strip()) if s.strip()]
    return sentences[-1] if sentences else ""


def hands_over(text: str) -> str | None:
    """Why the answer hands the turn back (a question to the interviewer, a closing phrase), or None."""
    last = last_sentence(text)
    words = _WORD.findall(last.lower())
    if not words:
        return None
    tail = " ".join(words[-6:])
    for closing in _CLOSINGS:
        if tail.endswith(closing) or tail == closing:
            return f"closes with '{closing}'"
    if last.endswith("?") and (
        _ADDRESSED.intersection(words) or " ".join(words[:2]) in _CHECKS or (" or " in f" {' '.join(words)} ")
    ):
        return "asks the interviewer a question"  # to them ("you"), a check ("is that..."), an either/or
    return None


def asks_itself(text: str) -> bool:
    """The answer ends on a question the speaker put to themselves: a wh-question not put to the
    interviewer ("What did I like most?", "Why not just a table?"), which they go on to answer."""
    last = last_sentence(text)
    words = _WORD.findall(last.lower())
    return last.endswith("?") and bool(words) and words[0] in _WH_WORDS and hands_over(text) is None


# An announced list ("three problems", "a few things", "first of all") is not over until its last
# item: one introduced by "and", "finally" or "lastly".
_ANNOUNCED_LIST = re.compile(
    r"\b(?:(?:two|three|four|five|a few|a couple of|several|some)\s+(?:\w+\s+)?"
    r"(?:things|problems|reasons|ways|steps|parts|issues|options|points|areas|changes|lessons|ideas)"
    r"|first of all|firstly|to start with|for one thing|first,)"
)
_LAST_ITEM = re.compile(r"(?:^|[.,;:!?]\s*)(?:and|finally|lastly|last of all|last but not least)\b[^.?!]*[.?!]?\s*$")


def open_list(text: str) -> bool:
    """The answer announced a list and has not reached an item that closes it."""
    lowered = text.strip().lower()
    return bool(_ANNOUNCED_LIST.search(lowered)) and not _LAST_ITEM.search(lowered)


# Words people open an answer with before the answer itself ("Honestly." + a pause, "Good question.").
_LEAD_IN_WORDS = frozenset(
    ["honestly", "well", "so", "okay", "ok", "right", "alright", "hmm", "um", "uh", "er", "actually", "basically",
     "good", "great", "interesting", "question", "let", "me", "think", "see", "to", "be", "honest", "yeah", "mm"]
)  # fmt: skip


def only_a_lead_in(text: str) -> bool:
    """The answer so far is an opener and nothing else ("Honestly.", "Well, hmm.", "Good question.")."""
    words = _WORD.findall(text.lower())
    return 0 < len(words) <= 4 and all(w in _LEAD_IN_WORDS for w in words)
