"""Serving an ASGI app with uvicorn inside the bot's own event loop, for the session servers.

Why not `uvicorn.run`: the bot owns the loop and the signals (a SIGTERM ends every session
with a goodbye and its record, then the server), needs the bound port when asked for port 0,
and stops the server when `--once` is done.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable, Iterator
from typing import Any

import uvicorn
from fastapi import FastAPI


class _Server(uvicorn.Server):
    """uvicorn, leaving signals to the bot: its own SIGTERM handling waits for open sockets, so
    sessions never ended. The bot's SIGTERM ends each session (goodbye, record) and then the server."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve(
    app: FastAPI,
    host: str,
    port: int,
    on_ready: Callable[[int], None] | None = None,
    *,
    ws_max_size: int = 16 * 1024 * 1024,
    sock: socket.socket | None = None,
) -> None:
    """Run uvicorn until cancelled or interrupted; `on_ready` gets the bound port (useful with port 0).

    `ws_max_size`: a larger WebSocket message closes that connection (code 1009), nothing else.
    `sock`: listen on this socket (bound by whoever started us, `--listen-fd`) instead of host:port."""
    server = _Server(
        uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off", ws_max_size=ws_max_size)
    )
    serve_task = asyncio.create_task(server.serve(sockets=[sock] if sock is not None else None))
    while not server.started and not serve_task.done():  # noqa: ASYNC110 - polls state that has no event to await
        await asyncio.sleep(0.02)
    if server.started and on_ready is not None:
        on_ready(server.servers[0].sockets[0].getsockname()[1])
    await serve_task


async def serve_until(
    app: FastAPI,
    host: str,
    port: int,
    done: asyncio.Event,
    on_ready: Callable[[int], None] | None = None,
    **serve_options: Any,
) -> None:
    """`serve`, but return once `done` is set (e.g. `--once`); a server failure is raised."""
    await _until_done(asyncio.create_task(serve(app, host, port, on_ready, **serve_options)), done)


async def _until_done(server: asyncio.Task[None], done: asyncio.Event) -> None:
    """Wait for `done` (then cancel the server) or the server's end; a server failure is raised."""
    waiter = asyncio.create_task(done.wait())
    finished, _ = await asyncio.wait({server, waiter}, return_when=asyncio.FIRST_COMPLETED)
    for task in (server, waiter):
        if task not in finished:
            task.cancel()
    if server in finished and server.exception() is not None:
        raise server.exception()  # type: ignore[misc]


async def serve_handed_connections(
    app: FastAPI,
    done: asyncio.Event,
    on_ready: Callable[[Callable[[socket.socket], None]], None],
    *,
    ws_max_size: int = 16 * 1024 * 1024,
) -> None:
    """uvicorn with no listening socket of its own, serving connections someone else accepted.

    For a worker of `bots/worker_pool.py`: `on_ready(serve_socket)` is called once the server
    runs; each `serve_socket(sock)` serves one accepted TCP connection exactly as if uvicorn had
    accepted it (same protocol class, same shared server state, so shutdown closes it too).
    uvicorn offers listening sockets only (`Server.serve(sockets=...)`); the protocol factory
    below is the one its `startup` builds. Returns once `done` is set."""
    server = _Server(uvicorn.Config(app, log_level="warning", lifespan="off", ws_max_size=ws_max_size))
    serve_task = asyncio.create_task(server.serve(sockets=[]))
    while not server.started and not serve_task.done():  # noqa: ASYNC110 - polls state that has no event to await
        await asyncio.sleep(0.02)
    loop = asyncio.get_running_loop()
    config = server.config
    connecting: set[asyncio.Task[Any]] = set()

    def serve_socket(sock: socket.socket) -> None:
        sock.setblocking(False)

        def protocol() -> asyncio.Protocol:
            return config.http_protocol_class(  # type: ignore[call-arg]
                config=config, server_state=server.server_state, app_state=server.lifespan.state, _loop=loop
            )

        task = loop.create_task(loop.connect_accepted_socket(protocol, sock))
        connecting.add(task)  # the loop keeps only a weak reference
        task.add_done_callback(connecting.discard)

    if server.started:
        on_ready(serve_socket)
    await _until_done(serve_task, done)
