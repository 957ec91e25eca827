"""The words an interview is about, as a short prompt for a speech recogniser.

Why: a small Whisper model spells domain words as common ones ("idempotency" ->
"eye potency", "Kafka" -> "CAFA", "cache" -> "cash") unless its decoder is primed with
them. Whisper reads the prompt as text said just before the audio, keeps only its last
~224 tokens, and copies its style, so the prompt is one plain sentence of the
interview's own terms, most telling first, within a word budget.
"""

from __future__ import annotations

import re

from interview.config import InterviewConfig

MAX_PROMPT_WORDS = 90
_TERM = re.compile(r"[A-Za-z][A-Za-z0-9+#.'/-]*[A-Za-z0-9+#]|[A-Za-z]")
# Words a recogniser gets right anyway; listing them only spends the budget.
_COMMON = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "if",
        "so",
        "of",
        "to",
        "in",
        "on",
        "at",
        "by",
        "for",
        "with",
        "from",
        "as",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "it",
        "its",
        "this",
        "that",
        "these",
        "those",
        "you",
        "your",
        "we",
        "our",
        "they",
        "their",
        "he",
        "she",
        "his",
        "her",
        "i",
        "me",
        "my",
        "what",
        "which",
        "who",
        "whom",
        "how",
        "why",
        "when",
        "where",
        "would",
        "could",
        "should",
        "can",
        "will",
        "do",
        "does",
        "did",
        "done",
        "have",
        "has",
        "had",
        "not",
        "no",
        "yes",
        "about",
        "into",
        "over",
        "under",
        "more",
        "most",
        "less",
        "very",
        "just",
        "also",
        "than",
        "then",
        "there",
        "here",
        "tell",
        "describe",
        "walk",
        "through",
        "example",
        "time",
        "team",
        "work",
        "working",
        "worked",
        "use",
        "used",
        "using",
        "make",
        "made",
        "way",
        "ways",
        "thing",
        "things",
        "something",
        "someone",
        "some",
        "any",
        "each",
        "every",
        "all",
        "both",
        "one",
        "two",
        "three",
        "first",
        "next",
        "last",
        "give",
        "given",
        "like",
        "well",
        "good",
        "great",
        "question",
        "questions",
        "answer",
        "answers",
        "interview",
        "candidate",
        "role",
        "company",
    ]
)


def stt_prompt(config: InterviewConfig, candidate_name: str | None = None) -> str:
    """One sentence naming the interview and its terms, e.g. for Whisper's ``initial_prompt``."""
    head = f"{config.company.name} interview, {config.role}"
    if candidate_name:
        head += f", with {candidate_name}"
    terms = interview_terms(config)
    budget = MAX_PROMPT_WORDS - len(head.split())
    chosen: list[str] = []
    for term in terms:
        if budget - len(term.split()) < 0:
            break
        chosen.append(term)
        budget -= len(term.split())
    return f"{head}. We talk about {', '.join(chosen)}." if chosen else f"{head}."


def interview_terms(config: InterviewConfig) -> list[str]:
    """Distinct terms, most telling first: rubric triggers, fact topics, then rare words of the text."""
    ranked: list[str] = []
    seen: set[str] = set()

    def add(term: str) -> None:
        term = term.strip(" .,;:!?\"'()")
        key = term.lower()
        if term and key not in seen and key not in _COMMON:
            seen.add(key)
            ranked.append(term)

    for area in config.rubric:
        for trigger in area.follow_up_triggers:
            add(trigger)
    for topic in config.company.facts:
        add(topic.replace("_", " "))
    technical, long_words = _distinctive_words(config.vocabulary())
    for word in technical + long_words:
        add(word)
    return ranked


def _distinctive_words(text: str) -> tuple[list[str], list[str]]:
    """(names and technical words, other long words), each in order of first appearance."""
    technical: list[str] = []
    long_words: list[str] = []
    for sentence in re.split(r"(?<=[.!?:])\s+|\n", text):
        for index, word in enumerate(_TERM.findall(sentence)):
            if word.endswith("'s"):
                word = word[:-2]
            mixed_case = any(c.isupper() for c in word[1:])
            if any(c.isdigit() or c in "+#/" for c in word) or mixed_case or (index > 0 and word[0].isupper()):
                technical.append(word)
            elif len(word) >= 11:
                long_words.append(word)
    return technical, long_words
