"""Comparing a client-supplied secret with ours, without crashing on what the client sent.

`hmac.compare_digest` on two `str` raises TypeError unless both are ASCII, so a token such
as `?token=é` became an exception in the connection handler. Comparing UTF-8 bytes (lone
surrogates passed through) keeps the comparison constant-time and makes any input a plain
"no".
"""

from __future__ import annotations

import hmac


def as_bytes(text: str) -> bytes:
    """Any Python string as bytes, never raising (lone surrogates included)."""
    return text.encode("utf-8", "surrogatepass")


def same_secret(given: str | None, expected: str) -> bool:
    """Constant-time equality of a client's secret and ours; None or anything odd is simply unequal."""
    if not isinstance(given, str):
        return False
    return hmac.compare_digest(as_bytes(given), as_bytes(expected))
