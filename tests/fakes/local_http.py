"""A tiny aiohttp server on a free loopback port, the base of the provider fakes."""

from __future__ import annotations

from typing import Any

from aiohttp import web


class LocalHTTPServer:
    """Start with `async with`; `base_url` is http://127.0.0.1:PORT. Subclasses add routes in `routes()`."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self._runner: web.AppRunner | None = None
        self.port = 0

    def routes(self) -> list[web.RouteDef]:
        raise NotImplementedError

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> LocalHTTPServer:
        app = web.Application()
        app.add_routes(self.routes())
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> LocalHTTPServer:
        return await self.start()

    async def __aexit__(self, *_exc: object) -> None:
        await self.stop()


def twirp_error(status: int, code: str, msg: str) -> web.Response:
    return web.json_response({"code": code, "msg": msg}, status=status)
