"""The launcher replaces a bot that died mid-session, within a limit, with stand-in bot processes.

The stand-ins are tiny Python children (as in tests/unit/test_launcher.py) that open a record
(a snapshot, no `session_ended`), say so, and die by SIGKILL; started with `--resume` they
behave as the script says. The real bots are in tests/e2e/test_crash_resume.py.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from launcher.restarts import record_unfinished
from tests.unit.test_launcher import AUTH, Launcher, settings

RECORD_NAME = "20990101-000000-abcdef"


def crashing_bot(record: Path, *, replacement: str) -> list[str]:
    """First run: open `record`, then SIGKILL itself. With --resume: `replacement` is 'crash', 'complete' or
    'refuse' (exit 4: the record cannot be resumed). Every run prints its argv to check the flags."""
    script = f"""
import json, os, pathlib, signal, socket, sys, time
record = pathlib.Path({str(record)!r})
print("argv " + json.dumps(sys.argv[1:]), flush=True)
if "--listen-fd" in sys.argv:
    fd = int(sys.argv[sys.argv.index("--listen-fd") + 1])
    port = socket.socket(fileno=os.dup(fd)).getsockname()[1]
    print(f"Interview server listening on ws://127.0.0.1:{{port}}/ws", flush=True)
else:
    print("Session ready: fake", flush=True)
if "--resume" not in sys.argv:
    record.mkdir(parents=True, exist_ok=True)
    (record / "snapshot.json").write_text("{{}}")
    (record / "events.jsonl").write_text('{{"type": "session_started"}}\\n')
    print("Candidate joined: session fake", flush=True)
    print(f"Session record opened: {{record}}", flush=True)
    time.sleep(0.2)
    os.kill(os.getpid(), signal.SIGKILL)
how = {replacement!r}
if how == "refuse":
    sys.exit(4)
time.sleep(0.2)
if how == "crash":
    os.kill(os.getpid(), signal.SIGKILL)
with open(record / "events.jsonl", "a") as f:
    f.write('{{"type": "session_ended", "reason": "completed"}}\\n')
print(f"Session record: {{record}}", flush=True)
"""
    return [sys.executable, "-c", script]


def closing_script(tmp_path: Path) -> list[str]:
    """Stands in for `bot.py` when the supervisor runs `--close-record DIR`: ends the record as bot_crashed."""
    script = """
import pathlib, sys
record = pathlib.Path(sys.argv[sys.argv.index("--close-record") + 1])
with open(record / "events.jsonl", "a") as f:
    f.write('{"type": "bot_replacements_exhausted"}\\n{"type": "session_ended", "reason": "bot_crashed"}\\n')
sys.exit(17)
"""
    return [sys.executable, "-c", script]


@pytest.fixture
async def crashing(tmp_path: Path) -> AsyncIterator:
    made: list[Launcher] = []

    def make(replacement: str, attempts: int = 2) -> tuple[Launcher, Path]:
        record = tmp_path / "sessions" / RECORD_NAME
        instance = Launcher(
            settings(tmp_path, launcher_restart_attempts=attempts), crashing_bot(record, replacement=replacement)
        )
        instance.supervisor.bot_script = closing_script(tmp_path)
        made.append(instance)
        return instance, record

    yield make
    for instance in made:
        await instance.supervisor.shutdown()


async def _websocket_session(instance: Launcher) -> dict:
    created = await instance.client.post(
        "/sessions", json={"transport": "websocket", "interview": "senior_backend_engineer"}, headers=AUTH
    )
    assert created.status_code == 201, created.text
    return created.json()


def _argv_lines(log: str) -> list[list[str]]:
    return [json.loads(line[5:]) for line in log.splitlines() if line.startswith("argv ")]


async def test_a_dead_bot_is_replaced_on_the_same_socket_and_the_session_goes_on(crashing) -> None:  # type: ignore[no-untyped-def]
    instance, record = crashing("complete")
    session = await _websocket_session(instance)
    ended = await instance.wait_state(session["id"], "ended", "failed", timeout=20)
    assert ended["state"] == "ended" and ended["exit_reason"] == "completed", ended
    assert ended["restarts"] == 1 and ended["crashes"] == ["killed_by_signal_9"]
    assert ended["record"] == str(record.resolve())
    first, second = _argv_lines(Path(ended["log"]).read_text())
    assert second[: second.index("--resume")] == first[: first.index("--listen-fd")]  # the same command...
    assert second[second.index("--resume") + 1] == str(record.resolve())  # ...going on from the record
    log = Path(ended["log"]).read_text()
    ports = {line.rsplit(":", 1)[1] for line in log.splitlines() if line.startswith("Interview server listening")}
    assert len(ports) == 1, log  # one socket, one URL for both bots
    assert ended["ws_url"].startswith(f"ws://127.0.0.1:{ports.pop()}?token=")  # "PORT/ws" from the ready lines


async def test_a_bot_that_keeps_dying_is_given_up_and_its_record_closed_as_bot_crashed(crashing) -> None:  # type: ignore[no-untyped-def]
    instance, record = crashing("crash", attempts=2)
    session = await _websocket_session(instance)
    ended = await instance.wait_state(session["id"], "ended", "failed", timeout=20)
    assert ended["state"] == "failed" and ended["exit_reason"] == "bot_crashed", ended
    assert ended["restarts"] == 2 and ended["crashes"] == ["killed_by_signal_9"] * 3
    assert not record_unfinished(str(record))
    assert '"reason": "bot_crashed"' in (record / "events.jsonl").read_text()
    assert instance.supervisor.active == 0  # the slot is free again


async def test_a_record_that_cannot_be_resumed_is_closed_at_once(crashing) -> None:  # type: ignore[no-untyped-def]
    instance, _record = crashing("refuse", attempts=3)
    session = await _websocket_session(instance)
    ended = await instance.wait_state(session["id"], "ended", "failed", timeout=20)
    assert ended["exit_reason"] == "bot_crashed" and ended["restarts"] == 1, ended  # exit 4: no second try
    assert ended["crashes"] == ["killed_by_signal_9", "resume_refused"]


async def test_no_attempts_means_no_replacement(crashing) -> None:  # type: ignore[no-untyped-def]
    instance, _record = crashing("complete", attempts=0)
    session = await _websocket_session(instance)
    ended = await instance.wait_state(session["id"], "ended", "failed", timeout=20)
    assert ended["exit_reason"] == "bot_crashed" and ended["restarts"] == 0, ended
    assert len(_argv_lines(Path(ended["log"]).read_text())) == 1


async def test_a_bot_the_launcher_stops_is_not_replaced(crashing, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    instance, record = crashing("complete")
    hanging = [sys.executable, "-c", "import time; print('Session ready: fake', flush=True); time.sleep(60)"]
    instance.command = hanging
    session = await _websocket_session(instance)
    await instance.wait_state(session["id"], "running")
    record.mkdir(parents=True)
    (record / "snapshot.json").write_text("{}")
    (record / "events.jsonl").write_text("{}\n")
    instance.supervisor.sessions[session["id"]].record = str(record)  # as if it had said so
    await instance.client.delete(f"/sessions/{session['id']}", headers=AUTH)
    ended = await instance.wait_state(session["id"], "ended", "failed", timeout=10)
    assert ended["restarts"] == 0 and ended["exit_reason"] == "deleted", ended


def test_only_a_record_with_a_snapshot_and_no_end_is_unfinished(tmp_path: Path) -> None:
    record = tmp_path / RECORD_NAME
    assert not record_unfinished(None) and not record_unfinished(str(record))
    record.mkdir()
    (record / "events.jsonl").write_text('{"type": "session_started"}\n')
    assert not record_unfinished(str(record))  # no turn yet: nothing to go on from
    (record / "snapshot.json").write_text("{}")
    assert record_unfinished(str(record))
    with open(record / "events.jsonl", "a") as f:
        f.write('{"type": "session_ended", "reason": "completed"}\n')
    assert not record_unfinished(str(record))


async def test_a_sessions_socket_outlives_its_bot(crashing) -> None:  # type: ignore[no-untyped-def]
    """Between a bot's death and its replacement the port is held and a connection waits, not refused."""
    instance, record = crashing("complete")
    slow = crashing_bot(record, replacement="complete")
    slow[-1] = slow[-1].replace("how = 'complete'", "how = 'complete'; time.sleep(1.5)")
    instance.command = slow
    session = await _websocket_session(instance)
    running = await instance.wait_state(session["id"], "restarting", timeout=10)
    port = int(running["ws_url"].split(":")[2].split("/")[0]) if running["ws_url"] else None
    assert port is not None
    _reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 2)  # queued, not refused
    writer.close()
    await instance.wait_state(session["id"], "ended", "failed", timeout=20)
