"""A WebSocket session's listening socket, owned by the launcher for the session's whole life.

Why: the candidate's page connects back to the origin it was served from (`/ws` on the same
host and port). When the session's bot dies and a replacement takes over (`bot.py --resume`),
that URL must still reach the session. So the launcher binds the socket (127.0.0.1, a port the
kernel picks) and hands it to each bot of the session (`bot.py --listen-fd N`, the descriptor
inherited); the launcher's own copy keeps the port — and the socket listening — between a bot's
death and its replacement, so the page's reconnect waits in the kernel's accept queue instead of
being refused, and no other process can take the port. The launcher never accepts on it: every
byte still goes straight to the bot. Closed when the session ends for good.
"""

from __future__ import annotations

import socket

LISTEN_BACKLOG = 16  # one candidate per session; a reload or two while the bot is being replaced


def session_listener(host: str = "127.0.0.1") -> socket.socket:
    """A bound TCP socket on a free port, inheritable (not listening yet: see `start_listening`)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, 0))
        sock.set_inheritable(True)
    except BaseException:
        sock.close()
        raise
    return sock


def start_listening(sock: socket.socket) -> None:
    """The session owns it now: connections queue even while no bot runs (the bot raises the backlog)."""
    sock.listen(LISTEN_BACKLOG)


def listen_flags(sock: socket.socket | None) -> list[str]:
    """The bot's flag for the socket it inherits (none for a room session)."""
    return [] if sock is None else ["--listen-fd", str(sock.fileno())]


def close_quietly(sock: socket.socket | None) -> None:
    if sock is not None:
        try:
            sock.close()
        except OSError:
            pass
