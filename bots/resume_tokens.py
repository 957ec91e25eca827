"""Resume tokens: minted per session, kept in memory as digests, and in the record as a digest only.

Why a digest in the record: when the bot process dies, the launcher starts a replacement from
the record folder alone (`bot.py --resume`), and the candidate's page comes back with the last
token it was sent. The replacement must know that token without the record holding it: so the
record keeps its SHA-256 (`resume_token.json`, written before the token is sent, replaced when a
resumed session gets its own), which accepts the token and nothing else. A token is 256 random
bits, so its digest cannot be turned back into it, and a lookup by digest leaks nothing an
attacker can use.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from pathlib import Path

from bots.session_record import write_atomically

TOKEN_FILE = "resume_token.json"
DIGEST_CHARS = 64  # hex SHA-256


class TokenFileError(ValueError):
    """The record's resume token file is missing or not one we wrote; the message says which."""


def new_token() -> str:
    """256 random bits, URL-safe (the page puts it in the socket URL's query)."""
    return secrets.token_urlsafe(32)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def save_token_digest(directory: Path, token: str) -> None:
    """Record `token`'s digest in the session's folder (atomic, fsynced): a replacement bot accepts it."""
    data = {"token_sha256": digest(token), "issued_at": round(time.time(), 3)}
    write_atomically(Path(directory) / TOKEN_FILE, json.dumps(data).encode())


def read_token_digest(directory: Path) -> str:
    """The digest of the token the session last gave its candidate; TokenFileError saying what is wrong."""
    path = Path(directory) / TOKEN_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TokenFileError(f"{path.parent.name}: no {TOKEN_FILE} (the session gave out no resume token)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TokenFileError(f"{path}: unreadable ({exc})") from exc
    value = data.get("token_sha256") if isinstance(data, dict) else None
    if not isinstance(value, str) or len(value) != DIGEST_CHARS or any(c not in "0123456789abcdef" for c in value):
        raise TokenFileError(f"{path}: token_sha256 is not a SHA-256 hex digest")
    return value


def forget_token_digest(directory: Path) -> None:
    """The token was used: no later replacement may accept it again."""
    (Path(directory) / TOKEN_FILE).unlink(missing_ok=True)
