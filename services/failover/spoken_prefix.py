"""Drop what was already said from the start of a retried reply.

When a stream breaks after some text went out, the fallback answers the same context from
the beginning. If its reply starts with the words already sent, those words are held back
and only the rest goes on; if it says something else, it goes on whole (it is not a repeat).
Words are compared case- and punctuation-insensitively.
"""

from __future__ import annotations

import re

_WORD = re.compile(r"[\w']+")
_LEADING_PUNCTUATION = re.compile(r"^[^\w\s']+")


def _words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


class SpokenPrefix:
    """Feed the retry's text pieces in order; each call returns what may be said of it."""

    def __init__(self, already_said: str) -> None:
        self._said = _words(already_said)
        self._held = ""
        self._done = not self._said

    def feed(self, text: str) -> str:
        if self._done:
            return text
        self._held += text
        held_words = _words(self._held)
        n = min(len(held_words), len(self._said))
        if held_words[:n] != self._said[:n]:
            return self._release(self._held)  # a different reply: nothing in it is a repeat
        if len(held_words) <= len(self._said) and not (len(held_words) == len(self._said) and _ends_word(self._held)):
            return ""  # still inside what was said (the last word may be incomplete)
        # past the already-said words: cut after the last of them
        cut = _end_of_word(self._held, len(self._said))
        rest = _LEADING_PUNCTUATION.sub("", self._held[cut:])  # "retries? Next" -> " Next": the "?" was said
        return self._release(rest if _WORD.search(rest) else "")

    def finish(self) -> str:
        """End of the retry: held text that never went past the already-said words is dropped."""
        self._done = True
        return ""

    def _release(self, text: str) -> str:
        self._done = True
        self._held = ""
        return text


def _ends_word(text: str) -> bool:
    return bool(text) and not (text[-1].isalnum() or text[-1] == "'")


def _end_of_word(text: str, count: int) -> int:
    """Index just after the `count`-th word of `text`."""
    end = 0
    for i, match in enumerate(_WORD.finditer(text)):
        if i == count - 1:
            end = match.end()
            break
    return end
