"""Numbers as people say them: "99.9%" -> "ninety nine point nine percent".

Why: a recogniser writes numbers as digits ("a 5-minute TTL", "10x", "99.9%") while a
script, a rubric trigger or a reference transcript says them in words. Every text
comparison (word accuracy, trigger matching, evidence checks) first rewrites digits in
words, so "five minute" and "5-minute" compare equal.
"""

from __future__ import annotations

import re

_ONES = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_SCALES = ((10**9, "billion"), (10**6, "million"), (1000, "thousand"), (100, "hundred"))
_ORDINAL_ENDINGS = {
    "one": "first",
    "two": "second",
    "three": "third",
    "five": "fifth",
    "eight": "eighth",
    "nine": "ninth",
    "twelve": "twelfth",
}
_NUMBER = re.compile(r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(st|nd|rd|th|%|x\b|k\b)?(?![\d])", re.IGNORECASE)
_SUFFIX_WORDS = {"%": " percent", "x": " times", "k": " thousand"}


def integer_words(n: int) -> str:
    """0 <= n < 10**12 in words, without "and": 1205 -> "one thousand two hundred five"."""
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n // 10] + ("" if n % 10 == 0 else " " + _ONES[n % 10])
    for scale, name in _SCALES:
        if n >= scale:
            head, rest = divmod(n, scale)
            return f"{integer_words(head)} {name}" + ("" if rest == 0 else " " + integer_words(rest))
    raise AssertionError("unreachable")


def _ordinal(words: str) -> str:
    head, _, last = words.rpartition(" ")
    last = _ORDINAL_ENDINGS.get(last, last[:-1] + "ieth" if last.endswith("y") else last + "th")
    return f"{head} {last}".strip()


def _spoken(match: re.Match[str]) -> str:
    digits, fraction, suffix = match.group(1), match.group(2), (match.group(3) or "").lower()
    value = int(digits.replace(",", ""))
    if value >= 10**12:
        return match.group(0)
    words = integer_words(value)
    if fraction:
        words += " point " + " ".join(_ONES[int(d)] for d in fraction[1:])
    if suffix in ("st", "nd", "rd", "th") and not fraction:
        return _ordinal(words)
    return words + _SUFFIX_WORDS.get(suffix, "")


def numbers_to_words(text: str) -> str:
    """Rewrite every number written in digits as words (hyphens next to numbers become spaces)."""
    return _NUMBER.sub(_spoken, re.sub(r"(?<=\d)-(?=[A-Za-z])", " ", text))
