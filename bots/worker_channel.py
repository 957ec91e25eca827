"""The pipe between a worker pool's primary and one worker: JSON messages, accepted sockets riding along.

A Unix SOCK_SEQPACKET pair: every send is one message (no framing to get wrong) and a
connection the primary accepted travels with its message as SCM_RIGHTS, so the worker
serves the very TCP socket the candidate connected on (no proxying, no second hop).
Both ends use the same class; reading is an event-loop reader, sending never blocks
for long (messages are a few hundred bytes and the kernel buffer holds hundreds).
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Callable
from typing import Any

MAX_MESSAGE_BYTES = 64 * 1024
Message = dict[str, Any]
OnMessage = Callable[[Message, socket.socket | None], None]


def channel_pair() -> tuple[socket.socket, socket.socket]:
    """(primary's end, worker's end); the worker's end is inherited by the child process."""
    primary, worker = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    worker.set_inheritable(True)
    return primary, worker


class WorkerChannel:
    """One end of the pair: `send` a message (optionally with a socket), `listen` for them."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.sock.setblocking(False)
        self.closed = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None

    @classmethod
    def from_fd(cls, fd: int) -> WorkerChannel:
        return cls(socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET, fileno=fd))

    def listen(self, on_message: OnMessage) -> None:
        """Call `on_message(message, attached_socket_or_None)` for every message; sets `closed` at EOF."""
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(self.sock.fileno(), self._read, on_message)

    def send(self, message: Message, attach: socket.socket | None = None) -> bool:
        """False if the other end is gone (the caller decides what that means)."""
        data = json.dumps(message).encode()
        fds = [attach.fileno()] if attach is not None else []
        for _ in range(50):
            try:
                socket.send_fds(self.sock, [data], fds)
                return True
            except BlockingIOError:
                self.sock.settimeout(0.1)  # the peer is behind: wait a moment for buffer room
                try:
                    socket.send_fds(self.sock, [data], fds)
                    return True
                except (BlockingIOError, TimeoutError):
                    continue
                finally:
                    self.sock.setblocking(False)
            except OSError:  # EPIPE / ECONNRESET: the peer exited
                return False
        return False

    def close(self) -> None:
        """Idempotent: both EOF and the owner (a worker's exit) close it, in either order."""
        if self.closed.is_set():
            return
        if self._loop is not None:
            self._loop.remove_reader(self.sock.fileno())
        self.sock.close()
        self.closed.set()

    def _read(self, on_message: OnMessage) -> None:
        try:
            data, fds, _flags, _addr = socket.recv_fds(self.sock, MAX_MESSAGE_BYTES, 1)
        except BlockingIOError:
            return
        except OSError:
            data, fds = b"", []
        if not data:
            self.close()
            return
        attached = socket.socket(fileno=fds[0]) if fds else None
        on_message(json.loads(data), attached)
