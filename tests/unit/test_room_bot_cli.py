"""`bot.py --transport livekit|daily` up to the connection: contract sources, failures, exit codes."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

import bot
from bots.session import SessionOutcome
from tests.fakes.daily_server import FakeDailyServer
from transports.room_metadata import PollResult, wait_for_metadata

LIVEKIT = ["--transport", "livekit", "--room", "interview-1", "--url", "wss://lk.example"]


@pytest.fixture(autouse=True)
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in (
        "DAILY_API_KEY",
        "LIVEKIT_URL",
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
        "DEEPGRAM_API_KEY",
        "ELEVENLABS_API_KEY",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LIVEKIT_API_KEY", "APIkey")
    monkeypatch.setenv("LIVEKIT_API_SECRET", "s" * 40)
    monkeypatch.setenv("SESSIONS_DIR", str(tmp_path / "sessions"))
    monkeypatch.chdir(tmp_path)  # no stray .env


@pytest.fixture
def sessions(monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    """Replace the session run (the part that needs a real room) and record what it was given."""
    calls: list[dict] = []

    async def fake_run(settings, config, **kwargs):  # type: ignore[no-untyped-def]
        calls.append({"config": config, **kwargs})
        return SessionOutcome("s1", Path("."), calls[0].get("end_reason_for_test", "session_timeout"))

    import bots.runners

    monkeypatch.setattr(bots.runners, "run_room_session", fake_run)
    return calls


def room_with_metadata(monkeypatch: pytest.MonkeyPatch, values: list[str | None]) -> dict:
    """read_room_metadata, minus the connection: the real poller over scripted metadata and a fake clock."""
    seen = {"polls": 0, "slept": 0.0}

    async def fake_read(url: str, token: str, *, timeout: float) -> PollResult:
        now = [0.0]

        def read() -> str | None:
            seen["polls"] += 1
            return values[min(seen["polls"] - 1, len(values) - 1)]

        async def sleep(s: float) -> None:
            now[0] += s
            seen["slept"] += s

        return await wait_for_metadata(read, timeout=timeout, clock=lambda: now[0], sleep=sleep)

    monkeypatch.setattr("transports.livekit.read_room_metadata", fake_read)
    return seen


def run(*args: str) -> int:
    try:
        return bot.main(list(args))
    except SystemExit as exc:
        return int(exc.code or 0)


def test_livekit_reads_late_metadata_and_exit_code_tells_the_end(monkeypatch, sessions, capsys) -> None:  # type: ignore[no-untyped-def]
    contract = {
        "interview": "qualitative_research",
        "candidate_identity": "cand-9",
        "candidate_name": "Ada",
        "instructions": "Be brief.",
    }
    seen = room_with_metadata(monkeypatch, ["", "", json.dumps(contract)])
    assert run(*LIVEKIT) == 11  # the fake session ended at session_timeout
    assert seen["polls"] == 3 and seen["slept"] == pytest.approx(0.3)
    call = sessions[0]
    assert call["config"].id == "small_shop_bookkeeping_research" and call["candidate_identity"] == "cand-9"
    assert call["candidate_name"] == "Ada" and call["instructions"] == "Be brief."
    assert call["room_name"] == "interview-1" and call["token"]  # minted from the key and secret


def test_livekit_without_metadata_fails_fast_with_exit_3(monkeypatch, sessions, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("METADATA_TIMEOUT", "2")
    seen = room_with_metadata(monkeypatch, [None])
    assert run(*LIVEKIT) == 3
    err = capsys.readouterr().err.strip()
    assert (
        err
        == "bot.py: error: livekit room interview-1: room metadata: nothing after 2.00s (15 polls); is the session contract set?"
    )
    assert seen["slept"] == pytest.approx(2.0) and sessions == []


@pytest.mark.parametrize(
    ("metadata", "message"),
    [
        ("{nope", "invalid JSON"),
        (
            json.dumps({"interview": "senior_backend_engineer", "voice": ""}),
            "voice: String should have at least 1 character",
        ),
    ],
)
def test_livekit_malformed_or_invalid_metadata_exits_3_naming_the_field(
    monkeypatch, sessions, capsys, metadata, message
) -> None:  # type: ignore[no-untyped-def]
    room_with_metadata(monkeypatch, [metadata])
    assert run(*LIVEKIT) == 3
    err = capsys.readouterr().err
    assert err.startswith("bot.py: error: livekit room interview-1 metadata: ") and message in err
    assert err.count("\n") == 1 and sessions == []


def test_livekit_with_config_needs_no_metadata(monkeypatch, sessions) -> None:  # type: ignore[no-untyped-def]
    seen = room_with_metadata(monkeypatch, [None])
    assert run(*LIVEKIT, "--config", "qualitative_research") == 11
    assert seen["polls"] == 0 and sessions[0]["config"].id == "small_shop_bookkeeping_research"


def test_contract_file_for_daily_and_bad_contract_file(tmp_path: Path, sessions, capsys) -> None:  # type: ignore[no-untyped-def]
    good = tmp_path / "contract.json"
    good.write_text(
        json.dumps({"interview": "senior_backend_engineer", "candidate_identity": "cand-2", "budget_limit_usd": 3})
    )
    assert run("--transport", "daily", "--room-url", "https://x.daily.co/r", "--contract", str(good)) == 11
    assert sessions[0]["candidate_identity"] == "cand-2" and sessions[0]["config"].budget.limit_usd == 3
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"interview": "senior_backend_engineer", "phases": []}))
    assert run("--transport", "daily", "--room-url", "https://x.daily.co/r", "--contract", str(bad)) == 3
    assert "phases: List should have at least 1 item" in capsys.readouterr().err


@pytest.fixture
def daily_server() -> Iterator[FakeDailyServer]:
    """The fake Daily API on its own loop in a thread (bot.main runs its own asyncio loop)."""
    loop = asyncio.new_event_loop()
    server = FakeDailyServer("daily-key")
    threading.Thread(target=loop.run_forever, daemon=True).start()
    asyncio.run_coroutine_threadsafe(server.start(), loop).result(10)
    yield server
    asyncio.run_coroutine_threadsafe(server.stop(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)


def test_daily_without_url_creates_a_room_and_prints_the_join_url(monkeypatch, sessions, capsys, daily_server) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DAILY_API_KEY", "daily-key")
    monkeypatch.setenv("DAILY_API_URL", daily_server.base_url)
    assert run("--transport", "daily") == 11
    out = capsys.readouterr().out
    name = next(iter(daily_server.rooms))
    assert f"Candidate join URL: https://fake.daily.co/{name}?t=fake." in out
    assert sessions[0]["room_url"] == f"https://fake.daily.co/{name}"
    assert sessions[0]["token"] and sessions[0]["token"] not in out  # the bot's own token is not printed
    assert [t["is_owner"] for t in daily_server.tokens] == [True, False]


def test_daily_without_url_or_key_is_a_usage_error(capsys) -> None:  # type: ignore[no-untyped-def]
    assert run("--transport", "daily") == 2
    assert "needs --room-url, or DAILY_API_KEY" in capsys.readouterr().err
