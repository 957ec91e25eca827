"""The worker pool's channel: messages and an accepted socket cross to another process (issue #32, item 4).

A real child process holds the worker's end, as a pool worker does. The primary hands it
one end of a connected socket pair; the child answers the "candidate" on that very socket
and reports back on the channel. When the child exits, the primary's end sees EOF.
"""

from __future__ import annotations

import asyncio
import json
import socket
import sys
from pathlib import Path

from bots.session_record import close_abandoned_record
from bots.worker_channel import Message, WorkerChannel, channel_pair

ROOT = Path(__file__).resolve().parents[2]

# The child: take one handed socket, greet the peer on it, report the message it came with, exit.
CHILD = """
import asyncio, sys
from bots.worker_channel import WorkerChannel

async def main() -> None:
    channel = WorkerChannel.from_fd(int(sys.argv[1]))
    done = asyncio.Event()

    def on_message(message, sock):
        sock.sendall(f"served by the worker, {message['greeting']}".encode())
        sock.close()
        channel.send({"type": "served", "had_socket": True})
        done.set()

    channel.listen(on_message)
    await asyncio.wait_for(done.wait(), 10)

asyncio.run(main())
"""


async def test_a_socket_and_its_message_reach_another_process() -> None:
    primary_end, worker_end = channel_pair()
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CHILD, str(worker_end.fileno()), pass_fds=(worker_end.fileno(),), cwd=ROOT
    )
    worker_end.close()
    channel = WorkerChannel(primary_end)
    reports: asyncio.Queue[Message] = asyncio.Queue()
    channel.listen(lambda message, _sock: reports.put_nowait(message))
    candidate, connection = socket.socketpair()
    try:
        assert channel.send({"type": "connection", "greeting": "hello"}, attach=connection)
        connection.close()  # the child holds its own copy now, as the primary does after a hand-over
        assert await asyncio.wait_for(reports.get(), 15) == {"type": "served", "had_socket": True}
        candidate.settimeout(5)
        assert candidate.recv(1024) == b"served by the worker, hello"
        assert candidate.recv(1024) == b""  # the child closed the only other copy
        await asyncio.wait_for(channel.closed.wait(), 10)  # the child exited: EOF
        assert not channel.send({"type": "connection"})  # nobody to send to, and no exception
        channel.close()  # again, after EOF closed it: harmless
    finally:
        candidate.close()
        await asyncio.wait_for(child.wait(), 10)
    assert child.returncode == 0


def test_a_dead_workers_record_is_closed_once_as_error(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    events.write_text(json.dumps({"t": "x", "type": "session_started"}) + "\n")
    assert close_abandoned_record(tmp_path, "the worker died")
    assert not close_abandoned_record(tmp_path, "the worker died")  # already ended: left as it is
    lines = [json.loads(line) for line in events.read_text().splitlines()]
    assert [(e["type"], e.get("reason")) for e in lines] == [
        ("session_started", None),
        ("error", None),
        ("session_ended", "error"),
    ]
    assert not close_abandoned_record(tmp_path / "missing", "the worker died")
