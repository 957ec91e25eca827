"""The phone-call server: Twilio's voice webhook and the media-stream WebSocket.

Pipecat's development runner has a Twilio webhook, but it checks no signature,
accepts any media WebSocket and runs one process per developer. This is the
production shape: one FastAPI app, many calls at once, one session per call.

* ``POST /twilio/voice`` — Twilio's incoming-call (or outbound-answered) webhook.
  The ``X-Twilio-Signature`` is checked against the public URL Twilio used
  (``https://PUBLIC_HOST`` + path + query: behind a tunnel the request arrives
  on another host). The answer is TwiML that connects the call to our media
  stream, carrying which interview to run (``?interview=`` on the webhook URL,
  else the called number's mapping, else the default) as a ``<Parameter>`` and
  in a signed, short-lived, single-use stream token.
* ``WS /twilio/media/{token}`` (or ``/twilio/media?token=``) — the token is
  checked before the socket is accepted (a refusal is an HTTP 403, no
  session). Twilio's ``<Stream url>`` does not support query strings, so the
  TwiML puts the token in the path. Then ``connected``/``start`` are read with
  Pipecat's ``parse_telephony_websocket`` and the call is handed to the runner.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape, quoteattr

from fastapi import FastAPI, Request, Response, WebSocket
from loguru import logger
from pipecat.runner.utils import parse_telephony_websocket
from starlette.websockets import WebSocketState

from transports.throttled_log import ThrottledLog, safe_label
from transports.twilio_security import (
    CallTokens,
    StreamGrant,
    StreamTokenError,
    StreamTokens,
    caller_key,
    signature_is_valid,
)

CLOSE_NORMAL = 1000
CLOSE_POLICY_VIOLATION = 1008
CLOSE_TRY_AGAIN_LATER = 1013
HANDSHAKE_TIMEOUT_SECS = 10.0
WEBHOOK_MAX_BYTES = 64 * 1024  # Twilio's voice webhook posts ~1-2 KB of form fields
TWIML_TYPE = "application/xml"
NOT_AVAILABLE = "Sorry, this interview line is not available right now. Goodbye."
BUSY = "Sorry, all our interviewers are busy. Please call again in a few minutes. Goodbye."


@dataclass(frozen=True)
class TwilioCall:
    """One accepted media stream, ready for a session."""

    websocket: WebSocket
    stream_sid: str
    call_sid: str
    interview: str
    custom_parameters: dict[str, Any]
    caller_key: str | None = None  # `caller_key(From, To)` from the webhook: a dropped call may call back


CallRunner = Callable[[TwilioCall], Awaitable[None]]


@dataclass
class TwilioServerOptions:
    public_host: str
    auth_token: str | None
    validate_signatures: bool
    interviews: frozenset[str]
    default_interview: str
    number_interviews: Mapping[str, str] = field(default_factory=dict)
    tokens: StreamTokens = field(default_factory=StreamTokens)
    max_sessions: int = 20
    webhook_max_bytes: int = WEBHOOK_MAX_BYTES

    def __post_init__(self) -> None:
        if self.validate_signatures and not self.auth_token:
            raise ValueError(
                "TWILIO_AUTH_TOKEN is needed to validate Twilio webhook signatures "
                "(TWILIO_VALIDATE_SIGNATURES=false only for local development)"
            )
        unknown = sorted({self.default_interview, *self.number_interviews.values()} - self.interviews)
        if unknown:
            raise ValueError(f"interviews not loaded: {unknown}")


def public_url(public_host: str, request: Request) -> str:
    """The URL Twilio requested, as it signed it."""
    query = request.url.query
    return f"https://{public_host}{request.url.path}" + (f"?{query}" if query else "")


def stream_twiml(stream_url: str, parameters: Mapping[str, str]) -> str:
    params = "".join(f"<Parameter name={quoteattr(k)} value={quoteattr(v)}/>" for k, v in parameters.items())
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f"<Response><Connect><Stream url={quoteattr(stream_url)}>{params}</Stream></Connect></Response>"
    )


def say_and_hang_up_twiml(text: str) -> str:
    return f'<?xml version="1.0" encoding="UTF-8"?><Response><Say>{escape(text)}</Say><Hangup/></Response>'


class _UsedTokens:
    """Single use: a token seen once is refused until it would have expired anyway."""

    def __init__(self) -> None:
        self._until: dict[str, float] = {}

    def claim(self, token: str, expires_at: float) -> bool:
        now = time.time()
        self._until = {t: e for t, e in self._until.items() if e >= now}
        if token in self._until:
            return False
        self._until[token] = expires_at
        return True


def build_twilio_app(
    run_call: CallRunner, options: TwilioServerOptions, health_details: Callable[[], dict[str, object]] | None = None
) -> FastAPI:
    """`health_details`: more for `/health` (loop lag, a pool's per-worker load)."""
    app = FastAPI(title="AI interviewer (phone)")
    active: set[asyncio.Task] = set()
    used = _UsedTokens()
    call_tokens = CallTokens(options.tokens)
    refusals = ThrottledLog("twilio")
    if not options.validate_signatures:
        logger.warning(
            "TWILIO_VALIDATE_SIGNATURES=false: webhook signatures are NOT checked; anyone who can reach "
            "this server can start interviews. Use this only for local development."
        )

    @app.get("/health")
    async def health() -> dict[str, object]:
        extra = health_details() if health_details is not None else {}
        return {"status": "ok", "active_calls": len(active), "max_sessions": options.max_sessions, **extra}

    @app.post("/twilio/voice")
    async def voice(request: Request) -> Response:
        params = await _form_params(request, options.webhook_max_bytes)
        if isinstance(params, Response):
            refusals.warning(f"refused a webhook body: HTTP {params.status_code}", "body")
            return params
        url = public_url(options.public_host, request)
        if options.validate_signatures:
            signature = request.headers.get("X-Twilio-Signature")
            if not signature_is_valid(url, params, signature, options.auth_token or ""):
                why = "missing" if not signature else "wrong"
                refusals.warning(f"refused Twilio webhook for {_trimmed(url)}: {why} X-Twilio-Signature", why)
                return Response(status_code=403, content="invalid signature")
        else:
            logger.warning(f"Twilio webhook for {_trimmed(url)} accepted WITHOUT a signature check")
        fields = dict(params)
        call_sid = fields.get("CallSid", "")
        if not call_sid:
            return Response(status_code=400, content="CallSid missing")
        call = safe_label(call_sid, 64)
        interview = _choose_interview(options, request.query_params.get("interview"), fields.get("To", ""))
        if interview is None:
            logger.warning(f"call {call}: unknown interview {safe_label(request.query_params.get('interview'))}")
            return Response(say_and_hang_up_twiml(NOT_AVAILABLE), media_type=TWIML_TYPE)
        if len(active) >= options.max_sessions:
            logger.warning(f"call {call}: {len(active)} calls running (max {options.max_sessions}); turned away")
            return Response(say_and_hang_up_twiml(BUSY), media_type=TWIML_TYPE)
        token = call_tokens.token_for(call_sid, interview, caller_key(fields.get("From", ""), fields.get("To", "")))
        if token is None:
            refusals.warning(f"call {call}: webhook replayed after its stream token expired; refused", "replay")
            return Response(status_code=409, content="this call was already answered")
        stream_url = f"wss://{options.public_host}/twilio/media/{token}"
        logger.info(
            f"call {call} to {safe_label(fields.get('To', '?'))}: interview {interview!r}, connecting media stream"
        )
        return Response(stream_twiml(stream_url, {"interview": interview}), media_type=TWIML_TYPE)

    async def media(websocket: WebSocket, token: str | None) -> None:
        peer = f"{websocket.client.host}:{websocket.client.port}" if websocket.client else "?"
        try:
            grant = options.tokens.verify(token)
        except StreamTokenError as exc:
            refusals.warning(f"refused media stream from {peer}: {exc}", str(exc).split(" (")[0])
            await websocket.close(code=CLOSE_POLICY_VIOLATION)  # before accept: HTTP 403
            return
        if not used.claim(token or "", grant.expires_at):
            refusals.warning(f"refused media stream from {peer}: token already used (call {grant.call_sid})", "used")
            await websocket.close(code=CLOSE_POLICY_VIOLATION)
            return
        if len(active) >= options.max_sessions:
            logger.warning(f"refused media stream for call {grant.call_sid}: server full")
            await websocket.close(code=CLOSE_TRY_AGAIN_LATER)
            return
        # Reserve the slot before the first await (accept, handshake): concurrent calls
        # checking the limit in between would otherwise all get in.
        task = asyncio.current_task()
        assert task is not None
        active.add(task)
        try:
            await websocket.accept()
            call = await _read_handshake(websocket, grant, peer)
            if call is None:
                return
            try:
                await run_call(call)
            except Exception:  # one call's failure must never take the server down
                logger.exception(f"call {call.call_sid}: session failed")
            finally:
                if websocket.application_state != WebSocketState.DISCONNECTED:
                    await _close(websocket, "call ended", code=CLOSE_NORMAL)
        finally:
            active.discard(task)

    @app.websocket("/twilio/media/{token}")
    async def media_with_path_token(websocket: WebSocket, token: str) -> None:
        await media(websocket, token)

    @app.websocket("/twilio/media")
    async def media_with_query_token(websocket: WebSocket) -> None:
        await media(websocket, websocket.query_params.get("token"))

    return app


async def _form_params(request: Request, max_bytes: int) -> list[tuple[str, str]] | Response:
    """Twilio posts application/x-www-form-urlencoded (parsed here: no python-multipart needed).

    At most `max_bytes` are read, before any signature check: a larger body (declared or, when
    chunked, found while reading) is a 413 without reading the rest."""
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/x-www-form-urlencoded":
        return Response(status_code=415, content="expected application/x-www-form-urlencoded")
    too_large = Response(status_code=413, content=f"body over {max_bytes} bytes")
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > max_bytes):
        return too_large if declared.isdigit() else Response(status_code=400, content="bad Content-Length")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            return too_large
    try:
        return parse_qsl(body.decode("utf-8"), keep_blank_values=True)
    except (UnicodeDecodeError, ValueError):
        return Response(status_code=400, content="undecodable form body")


def _trimmed(text: str, limit: int = 200) -> str:
    """A client-influenced string (a URL with its query) cut for a log line."""
    return text if len(text) <= limit else text[:limit] + f"… ({len(text)} chars)"


def _choose_interview(options: TwilioServerOptions, requested: str | None, called: str) -> str | None:
    if requested:
        return requested if requested in options.interviews else None
    return options.number_interviews.get(called, options.default_interview)


async def _read_handshake(websocket: WebSocket, grant: StreamGrant, peer: str) -> TwilioCall | None:
    """`connected` + `start` via Pipecat's parser; anything else closes this socket (and only it)."""
    call_sid = grant.call_sid
    try:
        kind, data = await asyncio.wait_for(parse_telephony_websocket(websocket), HANDSHAKE_TIMEOUT_SECS)
    except Exception as exc:
        logger.warning(
            f"media stream from {peer} (call {call_sid}): no valid connected/start handshake "
            f"({type(exc).__name__}: {_trimmed(str(exc), 120)})"
        )
        await _close(websocket, "expected connected and start messages")
        return None
    if kind != "twilio" or not data.stream_id or not data.call_id:
        logger.warning(
            f"media stream from {peer} (call {call_sid}): first messages were not a Twilio start ({safe_label(kind)})"
        )
        await _close(websocket, "expected a Twilio start message")
        return None
    if data.call_id != call_sid:
        logger.warning(
            f"media stream from {peer}: token minted for call {call_sid} used by call {safe_label(data.call_id, 64)}"
        )
        await _close(websocket, "token is for another call")
        return None
    body = data.body if isinstance(data.body, dict) else {}
    return TwilioCall(websocket, data.stream_id, data.call_id, grant.interview, dict(body), grant.caller_key)


async def _close(websocket: WebSocket, reason: str, code: int = CLOSE_POLICY_VIOLATION) -> None:
    try:
        await websocket.close(code=code, reason=reason)
    except Exception:  # already gone
        pass
