"""What every emulator shares: an aiohttp server on a loopback port with a fault plan.

Each emulator adds its routes; this class owns the life cycle (`async with`, `start()`/`stop()`,
an ephemeral port by default) and the two connection faults every provider can suffer
(`refuse`: the TCP connection is cut before any HTTP answer; `http_error`: an error status
with the provider's own error body, rendered by the subclass).
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
from typing import Self

from aiohttp import web
from loguru import logger

from emulators.faults import Fault, FaultKind, FaultPlan


class EmulatorServer:
    """Base class: subclasses implement `add_routes(app)` and `error_response(fault)`."""

    name = "emulator"

    def __init__(
        self, *, api_key: str | None = None, faults: FaultPlan | None = None, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.api_key = api_key  # None: any key is accepted
        self.faults = faults or FaultPlan()
        self.host = host
        self.port = port
        self.connections = 0
        self._runner: web.AppRunner | None = None

    # -- life cycle ------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._runner is not None

    def url(self, scheme: str = "http") -> str:
        if self._runner is None:
            raise RuntimeError(f"{type(self).__name__} is not running; use 'async with' or await start()")
        return f"{scheme}://{self.host}:{self.port}"

    async def start(self) -> Self:
        app = web.Application(client_max_size=32 * 1024 * 1024)
        self.add_routes(app)
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port).start()
        self.port = self._runner.addresses[0][1]
        logger.debug(f"{self.name} emulator listening on {self.url()}")
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- subclass hooks ----------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """What the client library is given as its base URL."""
        raise NotImplementedError

    def add_routes(self, app: web.Application) -> None:
        raise NotImplementedError

    def error_response(self, fault: Fault) -> web.Response:
        return web.json_response({"error": f"emulated {fault.status}"}, status=fault.status)

    # -- shared fault handling -----------------------------------------------------------

    async def connection_fault(self, request: web.Request) -> web.StreamResponse | None:
        """Apply the next connection fault, if any: None means serve the request normally."""
        self.connections += 1
        fault = self.faults.take(on_connect=True)
        if fault is None:
            return None
        logger.info(f"{self.name} emulator: injecting {fault.kind.value} on {request.method} {request.path}")
        if fault.kind is FaultKind.REFUSE:
            cut(request)
            await asyncio.sleep(0)  # let the transport close before aiohttp tries to answer
            return web.Response(status=499)
        return self.error_response(fault)


def cut(request: web.Request) -> None:
    """Drop the TCP connection at once, without a close handshake (what a crashing proxy does)."""
    if request.transport is not None:
        request.transport.abort()


async def hang_forever() -> None:
    """Accept and stay silent until the client gives up (the handler is cancelled then)."""
    await asyncio.Event().wait()


def run_cli(
    make: Callable[[argparse.Namespace, FaultPlan], EmulatorServer],
    *,
    description: str,
    port: int,
    setting: str,
    argv: list[str] | None = None,
    add_arguments: Callable[[argparse.ArgumentParser], None] | None = None,
) -> None:
    """`python -m emulators.X`: serve until interrupted, printing the URL to put in `setting`."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=port)
    p.add_argument("--api-key", help="require this key (default: accept any)")
    p.add_argument("--fault", action="append", help="fault spec to inject, in order (repeatable; see emulators.faults)")
    if add_arguments is not None:
        add_arguments(p)
    args = p.parse_args(argv)
    try:
        plan = FaultPlan(*[f for spec in args.fault or () for f in Fault.parse(spec)])
    except ValueError as exc:
        p.error(str(exc))

    async def serve() -> None:
        async with make(args, plan) as server:
            print(f"{server.name} emulator at {server.base_url}  ({setting}={server.base_url})", flush=True)
            await asyncio.Event().wait()

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        pass
