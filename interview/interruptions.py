"""How a reply the candidate talked over is written down, and what is left to say of it.

Why: Pipecat's assistant aggregator writes only the sentences whose audio finished playing
(services without word timestamps, such as Piper, release a sentence's text after its audio),
so after a barge-in the context holds the heard sentences and nothing says the reply was cut:
the sentence the candidate talked over is simply gone. Here the cut sentence is put back with
a visible mark, in the context (for the LLM and the structured interviewer) and in the
transcript (for people), and the rest of the reply is kept for a false interruption (a cough
or "mm-hm" that stopped the interviewer and was not followed by words): it resumes from the
cut sentence. No Pipecat imports.
"""

from __future__ import annotations

import re

CUT_MARK = "—"
CUT_NOTE = "[cut off: the candidate started speaking during this sentence]"
# What an empty turn that interrupted the interviewer asks the LLM (Pipecat's empty-user-turn prompt).
RESUME_INSTRUCTION = (
    "A sound from the candidate (a cough, a short 'mm-hm') cut you off, but they said nothing. "
    "Continue what you were saying from the sentence you were cut off in, without apologising and "
    "without commenting on the interruption."
)
# Spelled without hyphens: recognisers write "mm-hm", "MHM", "M-H-M", "uh-huh" for the same sounds.
BACKCHANNEL_WORDS = frozenset(
    {
        "mm",
        "mmm",
        "hm",
        "hmm",
        "mhm",
        "mmhm",
        "mmhmm",
        "uhhuh",
        "uh",
        "um",
        "yeah",
        "yep",
        "yes",
        "okay",
        "ok",
        "right",
        "sure",
    }
)
MAX_BACKCHANNEL_WORDS = 3
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def sentences(text: str) -> list[str]:
    """Split at sentence ends (the unit Pipecat's TTS speaks and reports)."""
    return [s for s in _SENTENCE_END.split(text.strip()) if s]


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


def unheard_part(reply: str, heard: str) -> str:
    """The reply after what was heard (``heard`` is a prefix of it, up to spacing and punctuation)."""
    heard_words = _words(heard)
    remaining = sentences(reply)
    taken: list[str] = []
    while remaining and len(_words(" ".join(taken))) < len(heard_words):
        taken.append(remaining.pop(0))
    return " ".join(remaining)


def mark_cut(heard: str, cut_sentence: str) -> str:
    """What was heard, then the sentence the candidate talked over, marked as cut."""
    return " ".join(p for p in (heard.strip(), f"{cut_sentence.strip().rstrip('.!?')}{CUT_MARK} {CUT_NOTE}") if p)


def is_cut(text: str) -> bool:
    return text.rstrip().endswith(CUT_NOTE)


def cut_sentence_of(text: str) -> str:
    """The sentence a marked message was cut in (without the mark), or ""."""
    if not is_cut(text):
        return ""
    body = text.rstrip()[: -len(CUT_NOTE)].rstrip().removesuffix(CUT_MARK)
    parts = sentences(body)
    return parts[-1] if parts else ""


def is_backchannel(text: str) -> bool:
    """A short acknowledgement ("mm-hm", "yeah, okay") rather than an answer."""
    words = [w.replace("-", "").strip("'") for w in re.findall(r"[a-z0-9'-]+", text.lower())]
    return 0 < len(words) <= MAX_BACKCHANNEL_WORDS and all(w in BACKCHANNEL_WORDS for w in words)


def resume_text(reply: str, cut_message: str) -> str:
    """What to say after a false interruption: the reply again from the sentence it was cut in."""
    cut = cut_sentence_of(cut_message)
    if not cut:
        return ""
    parts = sentences(reply)
    target = _words(cut)
    for i, sentence in enumerate(parts):
        if _words(sentence) == target:
            return " ".join(parts[i:])
    return cut if cut.endswith((".", "?", "!")) else f"{cut}."
