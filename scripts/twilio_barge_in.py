"""The barge-in caller (scripts/barge_in_caller.py) on a phone line: Twilio Media Streams.

The same conversation and measurements as over the WebSocket, spoken as Twilio speaks
(scripts/twilio_media_sim.py): the signed webhook, ``connected`` / ``start``, a µ-law
``media`` message every 20 ms, marks echoed once the audio before them has played, and the
server's ``clear`` taken as the interruption (it drops unplayed audio and echoes the
outstanding marks at once, as Twilio does). The phone's earpiece leaks into its microphone
like a speakerphone when ``echo_db`` is set.
"""

from __future__ import annotations

import asyncio
import audioop
import base64
import json
from typing import Any

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from scripts.barge_in_caller import BargeInCaller
from scripts.twilio_media_sim import (
    call_form,
    connected_message,
    mark_message,
    media_message,
    parse_stream_twiml,
    post_webhook,
    start_message,
    stop_message,
    tunnel,
)


class TwilioBargeInCaller(BargeInCaller):
    """One phone call to ``server`` (the bot's local http://HOST:PORT) for ``public_host``."""

    rate = 8000

    def __init__(
        self, server: str, synthesizer: object, *, public_host: str, account_sid: str, auth_token: str, call_sid: str,
        **options: Any,
    ) -> None:  # fmt: skip
        super().__init__(synthesizer, **options)
        self._server, self._host = server, public_host
        self._account, self._token, self._call = account_sid, auth_token, call_sid
        self._stream = "MZ" + call_sid[2:]
        self._sequence = 0
        self._chunk = 0
        self._marks: list[tuple[float, str]] = []  # (due on the client clock, name)

    def _next(self) -> int:
        self._sequence += 1
        return self._sequence

    async def _connect(self) -> None:
        status, twiml = await post_webhook(
            self._server, self._host, call_form(self._call, self._account), auth_token=self._token
        )
        if status != 200:
            raise RuntimeError(f"webhook answered {status}: {twiml[:200]}")
        stream = parse_stream_twiml(twiml)
        self._ws = await connect(tunnel(stream.url, self._server), max_size=None)
        await self._ws.send(json.dumps(connected_message()))
        start = start_message(
            stream_sid=self._stream, call_sid=self._call, account_sid=self._account,
            custom_parameters=stream.parameters, sequence=self._next(),
        )  # fmt: skip
        await self._ws.send(json.dumps(start))

    async def _send_chunk(self, pcm: bytes) -> None:
        self._chunk += 1
        message = media_message(
            self._stream, self._next(), self._chunk, (self._chunk - 1) * 20, audioop.lin2ulaw(pcm, 2)
        )
        try:
            await self._ws.send(json.dumps(message))
            await self._echo_due_marks()
        except ConnectionClosed:
            self._closed.set()

    async def _echo_due_marks(self) -> None:
        """Marks whose audio has played go back (checked every 20 ms, with the microphone)."""
        now = self.now()
        due = [m for m in self._marks if m[0] <= now]
        self._marks = [m for m in self._marks if m[0] > now]
        for _, name in due:
            await self._ws.send(json.dumps(mark_message(self._stream, self._next(), name)))

    async def _receive(self) -> None:
        try:
            async for raw in self._ws:
                message = json.loads(raw)
                event = message.get("event")
                if event == "media":
                    self._on_audio(audioop.ulaw2lin(base64.b64decode(message["media"]["payload"]), 2), self.rate)
                elif event == "mark":
                    self._marks.append((max(self.now(), self._playing_until), message["mark"]["name"]))
                elif event == "clear":
                    self._on_interruption()
                    self._marks = [(self.now(), name) for _, name in self._marks]
        except ConnectionClosed:
            pass
        finally:
            self._closed.set()

    async def _close(self) -> None:
        self._closed.set()
        try:
            await self._ws.send(
                json.dumps(stop_message(self._stream, self._next(), call_sid=self._call, account_sid=self._account))
            )
            await asyncio.wait_for(self._ws.close(), 5)
        except (ConnectionClosed, TimeoutError):
            pass
