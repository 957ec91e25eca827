"""Word accuracy (1 - WER) of a transcript against what was said, numbers compared as words.

Shared by the STT benchmark, the demo and the end-to-end tests, so all three report the
same figure the same way.
"""

from __future__ import annotations

import re

from interview.spoken_numbers import numbers_to_words


def words(text: str) -> list[str]:
    return re.sub(r"[^a-z0-9' ]+", " ", numbers_to_words(text).lower().replace("-", " ")).split()


def word_errors(reference: str, hypothesis: str) -> tuple[int, int]:
    """(substitutions + deletions + insertions, reference length) by edit distance."""
    ref, hyp = words(reference), words(hypothesis)
    row = list(range(len(hyp) + 1))
    for i in range(1, len(ref) + 1):
        diagonal, row[0] = row[0], i
        for j in range(1, len(hyp) + 1):
            diagonal, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, diagonal + (ref[i - 1] != hyp[j - 1]))
    return row[len(hyp)], len(ref)


def word_accuracy(references: list[str], hypotheses: list[str]) -> float:
    """1 - WER over a whole set (can go below 0 with many insertions)."""
    errors = total = 0
    for ref, hyp in zip(references, hypotheses, strict=True):
        e, n = word_errors(ref, hyp)
        errors, total = errors + e, total + n
    return 1.0 - errors / max(total, 1)
