"""Resume tokens across a bot's death: the record keeps a digest, a replacement accepts that token once.

And bot.py's replacement flags refuse what they cannot do, in one line, before anything starts.
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import pytest

from bots.resume_tokens import (
    TOKEN_FILE,
    TokenFileError,
    digest,
    forget_token_digest,
    new_token,
    read_token_digest,
    save_token_digest,
)
from bots.suspended_sessions import SuspendedSessions
from tests.unit.test_bot_cli import run_bot
from transports.common import SessionRefused


def test_the_record_holds_the_digest_never_the_token(tmp_path: Path) -> None:
    token = new_token()
    save_token_digest(tmp_path, token)
    text = (tmp_path / TOKEN_FILE).read_text()
    assert token not in text and read_token_digest(tmp_path) == digest(token)
    assert (tmp_path / TOKEN_FILE).stat().st_mode & 0o077 == 0  # the owner's only, as the rest of the record
    forget_token_digest(tmp_path)
    with pytest.raises(TokenFileError, match=r"no resume_token\.json"):
        read_token_digest(tmp_path)


@pytest.mark.parametrize(
    "content",
    ["not json", json.dumps({"token_sha256": "abc"}), json.dumps(["x"]), json.dumps({"token_sha256": "Z" * 64})],
)
def test_a_bad_token_file_says_what_is_wrong(tmp_path: Path, content: str) -> None:
    (tmp_path / TOKEN_FILE).write_text(content)
    with pytest.raises(TokenFileError, match=re.escape(TOKEN_FILE)):
        read_token_digest(tmp_path)


async def test_a_replacement_takes_the_candidates_token_once_and_no_other(tmp_path: Path) -> None:
    finished: list[Path] = []

    async def finish(directory: Path) -> None:
        finished.append(directory)

    token = new_token()
    save_token_digest(tmp_path, token)
    held = SuspendedSessions(60, finish)
    held.hold_digest(read_token_digest(tmp_path), tmp_path)
    with pytest.raises(SessionRefused):
        await held.claim(new_token())
    assert await held.claim(token) == tmp_path
    with pytest.raises(SessionRefused, match="unknown, used or expired"):
        await held.claim(token)
    short = SuspendedSessions(0.05, finish)
    short.hold_digest(digest(token), tmp_path)
    await asyncio.sleep(0.2)
    assert finished == [tmp_path] and short.held_count() == 0  # nobody came back: finished as it stood


async def test_a_second_drop_under_the_same_key_finishes_the_first_never_loses_it(tmp_path: Path) -> None:
    """One number's two calls both dropped: only the last can be called back to; the other is closed."""
    finished: list[Path] = []

    async def finish(directory: Path) -> None:
        finished.append(directory)

    first, second = tmp_path / "first", tmp_path / "second"
    held = SuspendedSessions(60, finish)
    held.hold_digest("k" * 64, first)
    held.hold_digest("k" * 64, second)
    await asyncio.sleep(0.05)
    assert finished == [first] and held.holds_digest("k" * 64)
    assert await held.claim_digest("k" * 64) == second
    await held.finish_all()
    assert finished == [first]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--transport", "twilio", "--resume", "."], "--resume: a phone session is resumed by calling back"),
        (["--transport", "daily", "--listen-fd", "5"], "--listen-fd: websocket only"),
        (["--listen-fd", "987"], "--listen-fd 987: not an open socket"),
        (["--resume", "no-such-record"], "--resume no-such-record: not a session record folder"),
        (["--close-record", "no-such-record"], "--close-record no-such-record: not a session record folder"),
    ],
)
def test_replacement_flags_refuse_what_they_cannot_do(tmp_path: Path, args: list[str], message: str) -> None:
    result = run_bot(*args, tmp_path=tmp_path)
    assert result.returncode in (2, 4), result.stderr
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_an_ended_record_cannot_be_resumed(tmp_path: Path) -> None:
    from tests.fakes.session_records import write_record

    record = write_record(tmp_path / "20990101-000000-abcdef")
    result = run_bot("--resume", str(record), tmp_path=tmp_path)
    assert result.returncode == 4, result.stderr
    assert "cannot be resumed" in result.stderr or "snapshot" in result.stderr, result.stderr
