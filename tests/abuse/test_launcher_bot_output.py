"""Finding 1: what a bot prints cannot freeze it, hold a launcher slot for good, or point the launcher elsewhere.

The launcher reads every child's stdout (its log) for a few lines. A line of any length (a
candidate's 20 KB message logged in full, or a megabyte with no newline) must neither stop that
reading (the child would block writing its log mid-interview) nor stop the session's state
following the process; and only an exact `Session record: DIR` line naming a folder of this
launcher's SESSIONS_DIR may say where the session's record (served as its report) is.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from scripts.candidate_protocol import encode_message, open_connection, rtvi_client_ready
from tests.unit.test_launcher import Launcher, fake_bot, settings

from .conftest import AUTH, one_question_interview

REQUEST = {"transport": "websocket", "interview": "senior_backend_engineer"}


def loud_bot(sessions: Path) -> list[str]:
    """Ready, then a 1 MiB line, its candidate's join, 4 MB more in 200 KB lines (far past a pipe's 64 KiB), exit 0."""
    code = "\n".join(
        [
            "import sys",
            "print('Session ready: loud', flush=True)",
            "sys.stdout.write('W' * (1 << 20) + '\\n'); sys.stdout.flush()",
            "print('Candidate joined: session loud', flush=True)",
            "for _ in range(20): sys.stdout.write('x' * 200_000 + '\\n')",
            "sys.stdout.flush()",
            "print('still talking', flush=True)",
        ]
    )
    return [sys.executable, "-c", code]


async def test_megabyte_lines_do_not_freeze_the_bot_or_hold_its_slot(tmp_path: Path) -> None:
    instance = Launcher(settings(tmp_path, launcher_max_sessions=2), loud_bot(tmp_path / "sessions"))
    neighbour = Launcher(settings(tmp_path / "n", launcher_max_sessions=1), fake_bot())  # another launcher's session
    try:
        calm = (await neighbour.client.post("/sessions", json=REQUEST, headers=AUTH)).json()
        body = (await instance.client.post("/sessions", json=REQUEST, headers=AUTH)).json()
        ended = await instance.wait_state(body["id"], "ended", "failed", timeout=20)
        assert ended["state"] == "ended" and ended["exit_code"] == 0, ended  # the child was never blocked
        assert ended["joined_at"] is not None  # a line after the long one was still read
        log = Path(ended["log"]).read_bytes()
        assert b"still talking" in log and len(log) < 1_000_000  # every line kept, each capped
        assert b"[line cut:" in log
        assert instance.supervisor.active == 0
        assert (await instance.client.post("/sessions", json=REQUEST, headers=AUTH)).status_code == 201
        assert (await neighbour.wait_state(calm["id"], "running"))["state"] == "running"  # untouched
    finally:
        for launcher in (instance, neighbour):
            await launcher.supervisor.shutdown()
            await launcher.client.aclose()


async def test_oversized_client_message_then_a_killed_bot_frees_the_only_slot(real_launcher) -> None:  # type: ignore[no-untyped-def]
    """The reproduction from the issue: LAUNCHER_MAX_SESSIONS=1, one ~20 KB message, kill -9 the bot."""
    launcher = await real_launcher(launcher_max_sessions=1, launcher_grace_seconds=5)
    created = await launcher.post({"transport": "websocket", "interview": one_question_interview("abuse_long_line")})
    assert created.status_code == 201, created.text
    session = await launcher.wait_state(created.json()["id"], "running")
    assert session["state"] == "running", Path(session["log"]).read_text()[-3000:]
    ws = await open_connection(session["ws_url"])  # with the session's token
    await ws.send(encode_message(rtvi_client_ready()))
    await ws.send(encode_message({"label": "rtvi-ai", "type": "no-such-message", "id": "1", "data": "A" * 20_000}))
    for _ in range(20):  # the bot logs it (in full, or not at all); either way its log keeps draining
        await ws.send(encode_message({"label": "rtvi-ai", "type": "no-such-message", "id": "2", "data": "B" * 20_000}))
    await asyncio.sleep(1.5)
    assert (await launcher.get(session["id"]))["state"] == "running"
    os.kill(session["pid"], signal.SIGKILL)
    ended = await launcher.wait_state(session["id"], "ended", "failed", timeout=10)
    assert ended["state"] == "failed" and ended["exit_code"] == -9, ended
    await ws.close()
    again = await launcher.post(REQUEST)
    assert again.status_code == 201, again.text  # the slot is free again, no launcher restart
    await launcher.client.delete(f"/sessions/{again.json()['id']}", headers=AUTH)


def record_liar(lines: list[str]) -> list[str]:
    """A child that prints `lines` as its record claims, then exits 0 (`completed`)."""
    code = "\n".join(["print('Session ready: liar', flush=True)", *(f"print({line!r}, flush=True)" for line in lines)])
    return [sys.executable, "-c", code]


async def test_a_bot_cannot_point_the_launcher_at_a_folder_outside_its_records(tmp_path: Path) -> None:
    sessions = tmp_path / "sessions"
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "report.html").write_text("<p>not this session's</p>")
    sessions.mkdir()
    (sessions / "20990101-000000-aaaaaa").symlink_to(outside)  # inside by name, outside in fact
    claims = [
        f"warning: client said Session record: {outside}",  # not a whole line
        f"Session record: {outside}",  # a whole line, but not under SESSIONS_DIR
        f"Session record: {sessions}/../elsewhere",  # escapes by ..
        f"Session record: {sessions}/20990101-000000-aaaaaa",  # escapes by a symlink
        f"Session record: {sessions}/launcher",  # the launcher's own folder (tokens, contracts)
        "Session record: /etc",
    ]
    instance = Launcher(settings(tmp_path), record_liar(claims))
    try:
        body = (await instance.client.post("/sessions", json=REQUEST, headers=AUTH)).json()
        ended = await instance.wait_state(body["id"], "ended", "failed")
        assert ended["record"] is None, ended
        report = await instance.client.get(f"/sessions/{body['id']}/report", headers=AUTH)
        assert report.status_code == 404 and "no record" in report.json()["detail"]

        real = sessions / "20990101-000001-bbbbbb"
        real.mkdir()
        (real / "report.html").write_text("<p>this session's report</p>")
        honest = Launcher(settings(tmp_path), record_liar([f"Session record: {real}"]))
        try:
            body = (await honest.client.post("/sessions", json=REQUEST, headers=AUTH)).json()
            ended = await honest.wait_state(body["id"], "ended", "failed")
            assert ended["record"] == str(real.resolve())
            served = await honest.client.get(f"/sessions/{body['id']}/report", headers=AUTH)
            assert served.status_code == 200 and "this session's report" in served.text
        finally:
            await honest.supervisor.shutdown()
            await honest.client.aclose()
    finally:
        await instance.supervisor.shutdown()
        await instance.client.aclose()
