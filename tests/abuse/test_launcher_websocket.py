"""Finding 4 (launcher part): a launcher WebSocket session is for its candidate only, and only once.

A real launcher starts a real offline bot. The session gets its own token (in the bot's
environment, never its argv) which the join URL carries; a socket without it or with another
is refused, a second socket with it while the first runs is refused, and the refusals leave
the candidate's session running. The bot binds port 0 and the launcher reads the port back
from the bot's own ready line, so no other process can take the port between the two. And the
candidate is never told where on the server its record lives.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import websockets

from scripts.candidate_protocol import CandidateConnectionError, encode_message, open_connection, rtvi_client_ready

from .conftest import one_question_interview, proc_environ

CLOSE_POLICY_VIOLATION, CLOSE_TRY_AGAIN_LATER = 1008, 1013


async def closed_with(url: str) -> int | None:
    """The close code the server answers a new socket on `url` with (None: it stayed open)."""
    ws = await open_connection(url)
    try:
        await asyncio.wait_for(ws.recv(), 5)
        while True:
            await asyncio.wait_for(ws.recv(), 5)
    except websockets.ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else None
    except TimeoutError:
        return None
    finally:
        await ws.close()


async def test_a_websocket_session_admits_only_its_candidate_once(real_launcher, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    launcher = await real_launcher(launcher_max_sessions=2)
    created = await launcher.post({"transport": "websocket", "interview": one_question_interview("abuse_token")})
    assert created.status_code == 201, created.text
    token = created.json()["candidate_token"]
    assert isinstance(token, str) and len(token) >= 32, created.json()
    argv = launcher.argv[0]
    assert "--port" not in argv  # the launcher's socket for the session is handed over (--listen-fd): no race
    assert token not in " ".join(argv)

    session = await launcher.wait_state(created.json()["id"], "running")
    assert session["state"] == "running", Path(session["log"]).read_text()[-3000:]
    environ = proc_environ(session["pid"])
    assert environ["WEBSOCKET_TOKEN"] == token and environ["MAX_SESSIONS"] == "1"
    assert token not in Path(f"/proc/{session['pid']}/cmdline").read_text()
    ws_url, join_url = session["ws_url"], session["join_url"]
    port = urlsplit(ws_url).port
    assert f"listening on ws://127.0.0.1:{port}/ws" in Path(session["log"]).read_text()  # the bot's own port
    assert parse_qs(urlsplit(join_url).query)["token"] == [token] and urlsplit(join_url).port == port
    base = ws_url.split("?")[0]

    assert await closed_with(base) == CLOSE_POLICY_VIOLATION  # no token
    assert await closed_with(f"{base}?token={'x' * len(token)}") == CLOSE_POLICY_VIOLATION  # someone else's

    candidate = await open_connection(f"{base}?token={token}")
    await candidate.send(encode_message(rtvi_client_ready()))
    heard: list[bytes | str] = []

    async def listen() -> None:
        try:
            async for message in candidate:
                heard.append(message)
        except websockets.ConnectionClosed:
            pass

    listener = asyncio.create_task(listen())
    await asyncio.sleep(1.0)
    assert await closed_with(f"{base}?token={token}") == CLOSE_TRY_AGAIN_LATER  # one session per --once bot
    before = len(heard)
    await asyncio.sleep(1.0)
    assert len(heard) > before, "the candidate's session stopped after the refusals"
    assert (await launcher.get(session["id"]))["state"] == "running"
    sessions_dir = str(launcher.settings.sessions_dir.resolve())
    raw = b"".join(m if isinstance(m, bytes) else m.encode() for m in heard)
    assert b"interview-session" in raw and sessions_dir.encode() not in raw  # no server path to the candidate

    await candidate.close()
    listener.cancel()
    ended = await launcher.wait_state(session["id"], "ended", "failed", timeout=30)
    assert ended["state"] == "ended", Path(ended["log"]).read_text()[-3000:]
    with pytest.raises(CandidateConnectionError):
        await open_connection(f"{base}?token={token}", open_timeout=2)  # the --once bot is gone
