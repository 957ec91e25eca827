"""A local stand-in for Twilio's REST API (the two calls this product makes), on a real socket.

* ``POST /2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json`` with ``Status=completed``:
  hang up a call (Pipecat's serializer does this at the end of an interview).
* ``POST /2010-04-01/Accounts/{AccountSid}/Calls.json`` with ``To``, ``From``, ``Url``: place an
  outbound call (scripts/call.py).

Both are form-encoded with HTTP basic auth (account SID + auth token) as Twilio requires;
wrong credentials get Twilio's 401 (code 20003). Every request is kept in `requests`
with the time it arrived, and `on_hang_up` lets a simulated call end its media stream
the way Twilio does (``stop``, then close) when the server hangs up.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web


@dataclass
class RestRequest:
    method: str
    path: str
    account_sid: str
    call_sid: str | None
    form: dict[str, str]
    auth: tuple[str, str] | None
    at: float = field(default_factory=time.monotonic)


class FakeTwilioRest:
    def __init__(self, account_sid: str, auth_token: str, host: str = "127.0.0.1") -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.host = host
        self.port = 0
        self.requests: list[RestRequest] = []
        self._hang_up_listeners: dict[str, Callable[[], None]] = {}
        self._sids = (f"CA{n:032d}" for n in itertools.count(1))
        self._runner: web.AppRunner | None = None
        self.changed = asyncio.Event()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def on_hang_up(self, call_sid: str, callback: Callable[[], None]) -> None:
        self._hang_up_listeners[call_sid] = callback

    def hang_ups(self) -> list[RestRequest]:
        return [r for r in self.requests if r.call_sid is not None]

    async def wait_for_hang_up(self, call_sid: str, timeout: float) -> RestRequest:
        deadline = time.monotonic() + timeout
        while True:
            for request in self.hang_ups():
                if request.call_sid == call_sid:
                    return request
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no hang-up request for {call_sid} within {timeout}s")
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), remaining)
            except TimeoutError:
                pass

    async def start(self) -> FakeTwilioRest:
        app = web.Application()
        app.router.add_post("/2010-04-01/Accounts/{account}/Calls.json", self._create_call)
        app.router.add_post("/2010-04-01/Accounts/{account}/Calls/{call}.json", self._update_call)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _record(self, request: web.Request, call_sid: str | None) -> tuple[RestRequest, web.Response | None]:
        form = {k: str(v) for k, v in (await request.post()).items()}
        auth = _basic_auth(request.headers.get("Authorization", ""))
        entry = RestRequest(request.method, request.path, request.match_info["account"], call_sid, form, auth)
        self.requests.append(entry)
        self.changed.set()
        if auth != (self.account_sid, self.auth_token) or entry.account_sid != self.account_sid:
            return entry, web.json_response({"code": 20003, "message": "Authenticate", "status": 401}, status=401)
        return entry, None

    async def _update_call(self, request: web.Request) -> web.Response:
        call_sid = request.match_info["call"]
        entry, refused = await self._record(request, call_sid)
        if refused is not None:
            return refused
        if entry.form.get("Status") == "completed" and (listener := self._hang_up_listeners.pop(call_sid, None)):
            listener()
        return web.json_response({"sid": call_sid, "account_sid": self.account_sid, "status": "completed"})

    async def _create_call(self, request: web.Request) -> web.Response:
        entry, refused = await self._record(request, None)
        if refused is not None:
            return refused
        missing = [k for k in ("To", "From") if not entry.form.get(k)]
        if missing or not (entry.form.get("Url") or entry.form.get("Twiml")):
            return web.json_response(
                {"code": 21201, "message": f"missing {missing or ['Url']}", "status": 400}, status=400
            )
        sid = next(self._sids)
        return web.json_response(
            {
                "sid": sid,
                "account_sid": self.account_sid,
                "to": entry.form["To"],
                "from": entry.form["From"],
                "status": "queued",
            },
            status=201,
        )


def _basic_auth(header: str) -> tuple[str, str] | None:
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, _, password = base64.b64decode(value).decode().partition(":")
    except ValueError:
        return None
    return user, password
