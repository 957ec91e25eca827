"""Pipecat's Twilio serializer, hardened for a public server and taught about marks.

What Pipecat 1.14's `TwilioFrameSerializer.deserialize` lacks:

* it ignores ``mark`` echoes and ``stop`` (see transports/twilio_marks.py for why
  marks matter); here echoes go to the call's `PlaybackMarks` and ``stop``
  tells it the caller hung up (no hang-up request for a call that is over);
* it raises on input it does not expect (a JSON list or number, ``media`` that is
  not an object, a payload with bad base64 padding), and an exception there
  ends the transport's receive loop, which Pipecat reports as the caller
  leaving. Here every malformed message is dropped with one clear log line per
  kind (then every 500th), and the call carries on;
* it has no size limit; a message larger than `max_message_bytes` (a 20 ms media
  message is ~300 bytes) is dropped unparsed.

Outbound (audio, ``clear`` on interruption, hang-up through the REST API at
``base_url``) is Pipecat's, unchanged.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections import Counter
from typing import Any

from loguru import logger
from pipecat.frames.frames import Frame
from pipecat.serializers.twilio import TwilioFrameSerializer

from transports.twilio_marks import PlaybackMarks

MAX_MESSAGE_BYTES = 64 * 1024
LOG_FIRST = 3
LOG_EVERY = 500


class InterviewTwilioSerializer(TwilioFrameSerializer):
    """`TwilioFrameSerializer` + mark echoes, `stop`, and garbage-tolerant parsing."""

    def __init__(
        self,
        *,
        stream_sid: str,
        call_sid: str | None,
        account_sid: str | None,
        auth_token: str | None,
        base_url: str | None,
        marks: PlaybackMarks,
        max_message_bytes: int = MAX_MESSAGE_BYTES,
    ) -> None:
        can_hang_up = bool(call_sid and account_sid and auth_token)
        super().__init__(
            stream_sid=stream_sid,
            call_sid=call_sid,
            account_sid=account_sid,
            auth_token=auth_token,
            base_url=base_url,
            params=TwilioFrameSerializer.InputParams(auto_hang_up=can_hang_up),
        )
        self.marks = marks
        self.max_message_bytes = max_message_bytes
        self.dropped: Counter[str] = Counter()

    async def deserialize(self, data: str | bytes) -> Frame | None:
        if len(data) > self.max_message_bytes:
            return self._drop("oversize message", f"{len(data)} bytes > {self.max_message_bytes}")
        try:
            message = json.loads(data)
        except (ValueError, TypeError):  # UnicodeDecodeError is a ValueError
            return self._drop("non-JSON message", repr(data[:60]))
        if not isinstance(message, dict):
            return self._drop("message is not a JSON object", type(message).__name__)
        event = message.get("event")
        if event == "media":
            return await self._media(message, data)
        if event == "dtmf":
            dtmf = message.get("dtmf")
            if not isinstance(dtmf, dict) or not isinstance(dtmf.get("digit"), str):
                return self._drop("malformed dtmf", repr(dtmf)[:60])
            return await super().deserialize(data)
        if event == "mark":
            mark = message.get("mark")
            name = mark.get("name") if isinstance(mark, dict) else None
            if not isinstance(name, str):
                return self._drop("malformed mark", repr(mark)[:60])
            self.marks.echo(name)
            return None
        if event == "stop":
            logger.info(f"twilio call {self._call_sid}: stream stopped by Twilio (caller hung up or call ended)")
            self.marks.stream_stopped()
            return None
        if event in ("connected", "start"):
            return self._drop("repeated handshake message", str(event))
        return self._drop("unknown event", repr(event)[:40])

    async def _media(self, message: dict[str, Any], data: str | bytes) -> Frame | None:
        media = message.get("media")
        payload = media.get("payload") if isinstance(media, dict) else None
        if not isinstance(media, dict) or not isinstance(payload, str):
            return self._drop("malformed media", repr(media)[:60])
        if media.get("track", "inbound") not in ("inbound", "inbound_track"):
            return None  # only the caller's side is interviewed
        try:
            base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError):
            return self._drop("media payload is not base64", repr(payload[:40]))
        return await super().deserialize(data)

    async def _hang_up_call(self) -> None:
        if self.marks.stopped:
            logger.debug(f"twilio call {self._call_sid}: caller already hung up, no hang-up request")
            return
        await super()._hang_up_call()

    def _drop(self, reason: str, detail: str) -> Frame | None:
        """Count (and now and then log) a message that becomes no frame; returns that no-frame."""
        self.dropped[reason] += 1
        count = self.dropped[reason]
        if count <= LOG_FIRST or count % LOG_EVERY == 0:
            logger.warning(f"twilio call {self._call_sid}: dropped {reason} ({detail}); {count} so far, call continues")
        return None
