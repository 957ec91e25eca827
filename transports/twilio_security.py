"""Who may start a phone interview: Twilio's webhook signature and our media-stream tokens.

Pipecat has neither. Its development runner answers any webhook and accepts any
media WebSocket; a public server like that lets anyone start interviews (STT,
LLM and TTS minutes) on our bill.

* `twilio_signature` / `signature_is_valid`: Twilio's documented request
  validation. The ``X-Twilio-Signature`` header is base64(HMAC-SHA1(auth token,
  full URL + every POST parameter name and value, sorted by name (then value)))).
  The URL is the one Twilio requested (scheme, host, path, query), so behind a
  tunnel the server rebuilds it from ``PUBLIC_HOST``.
* `StreamTokens`: the webhook mints a short-lived HMAC-SHA256-signed token naming
  the call and the interview; ``WS /twilio/media`` refuses connections without a
  valid, unexpired one, and the session uses the interview named in the token
  (so a tampered ``<Parameter>`` cannot pick another one).
* `CallTokens`: one token per CallSid. Twilio's signature covers no timestamp, so a
  captured signed webhook can be replayed at will; each replay used to mint a fresh
  token for the same call. Within the token's TTL a replay gets the same (single-use)
  token back, later ones are refused while the CallSid is remembered (bounded: the
  oldest are forgotten first).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from transports.constant_time import as_bytes, same_secret


def twilio_signature(url: str, params: Iterable[tuple[str, str]], auth_token: str) -> str:
    """The X-Twilio-Signature Twilio sends for a form POST of `params` to `url`."""
    # Sorted by name, then value, duplicates once: as Twilio's own helper libraries compute it.
    payload = url + "".join(name + value for name, value in sorted(set(params)))
    digest = hmac.new(auth_token.encode(), as_bytes(payload), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def signature_is_valid(url: str, params: Iterable[tuple[str, str]], signature: str | None, auth_token: str) -> bool:
    """Constant-time comparison; a missing signature is invalid."""
    if not signature:
        return False
    return same_secret(signature, twilio_signature(url, params, auth_token))


class StreamTokenError(ValueError):
    """Why a media-stream token was refused (the message is safe to log)."""


@dataclass(frozen=True)
class StreamGrant:
    """What a valid token allows: one media stream for this call, running this interview."""

    call_sid: str
    interview: str
    expires_at: float
    caller_key: str | None = None  # who is calling which line (`caller_key`): a dropped call may call back


class StreamTokens:
    """Mint and check ``<payload>.<signature>`` tokens (URL-safe base64, HMAC-SHA256)."""

    def __init__(
        self, secret: bytes | None = None, ttl_secs: float = 60.0, clock: Callable[[], float] = time.time
    ) -> None:
        self._secret = secret or secrets.token_bytes(32)
        self._ttl = ttl_secs
        self._clock = clock

    @property
    def ttl_secs(self) -> float:
        return self._ttl

    def now(self) -> float:
        """This minter's clock (expiry times are on it)."""
        return self._clock()

    def mint(self, call_sid: str, interview: str, caller_key: str | None = None) -> str:
        fields: dict[str, object] = {"c": call_sid, "i": interview, "e": round(self._clock() + self._ttl, 3)}
        if caller_key is not None:
            fields["k"] = caller_key
        body = json.dumps(fields, separators=(",", ":"))
        payload = _b64(body.encode())
        return f"{payload}.{self._sign(payload)}"

    def verify(self, token: str | None) -> StreamGrant:
        """The grant for a valid token, else `StreamTokenError` saying why."""
        if not token:
            raise StreamTokenError("missing token")
        payload, _, signature = token.partition(".")
        if not payload or not signature or not same_secret(signature, self._sign(payload)):
            raise StreamTokenError("bad token signature")
        try:
            data = json.loads(_unb64(payload))
            key = data.get("k")
            grant = StreamGrant(
                call_sid=str(data["c"]),
                interview=str(data["i"]),
                expires_at=float(data["e"]),
                caller_key=str(key) if key is not None else None,
            )
        except (ValueError, KeyError, TypeError, binascii.Error) as exc:
            raise StreamTokenError(f"malformed token ({type(exc).__name__})") from None
        if self._clock() > grant.expires_at:
            raise StreamTokenError("expired token")
        return grant

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self._secret, as_bytes(payload), hashlib.sha256).digest())


CALLER_NUMBER = re.compile(r"\+[1-9][0-9]{6,14}")  # E.164; "anonymous", SIP and client identities are not


def caller_key(caller: str, called: str) -> str | None:
    """Who calls which line, as a digest (None when the caller ID is withheld or not a phone number).

    A dropped call is resumed when the same number calls the same line back within the grace window;
    the number itself stays out of tokens and logs."""
    if not CALLER_NUMBER.fullmatch(caller):
        return None
    return hashlib.sha256(f"phone {caller} -> {called}".encode()).hexdigest()


def unverified_caller_key(token: str) -> str | None:
    """The caller key a stream token carries, signature NOT checked: for routing a call back to the worker
    that holds its session (`bots/resume_routing.py`); the worker verifies the token itself."""
    payload = token.partition(".")[0]
    try:
        key = json.loads(_unb64(payload)).get("k")
    except (ValueError, TypeError, AttributeError, binascii.Error):
        return None
    return key if isinstance(key, str) and re.fullmatch(r"[0-9a-f]{64}", key) else None


CALL_MEMORY_SECS = 6 * 3600.0  # longer than any interview call
MAX_REMEMBERED_CALLS = 20_000  # ~3 MB; new CallSids come only from signed webhooks


class CallTokens:
    """The stream token of each CallSid: minted once, the same within its TTL, refused after."""

    def __init__(
        self, tokens: StreamTokens, *, memory_secs: float = CALL_MEMORY_SECS, max_calls: int = MAX_REMEMBERED_CALLS
    ) -> None:
        self._tokens = tokens
        self._memory = max(memory_secs, tokens.ttl_secs)
        self._max = max_calls
        self._calls: OrderedDict[str, tuple[str, float, float]] = OrderedDict()  # sid -> token, expires, forget

    def token_for(self, call_sid: str, interview: str, caller_key: str | None = None) -> str | None:
        """The call's token (a replay within the TTL gets the same one), or None for a replay after it."""
        now = self._tokens.now()
        while self._calls and next(iter(self._calls.values()))[2] < now:
            self._calls.popitem(last=False)
        known = self._calls.get(call_sid)
        if known is not None:
            token, expires_at, _ = known
            return token if now <= expires_at else None
        token = self._tokens.mint(call_sid, interview, caller_key)
        self._calls[call_sid] = (token, now + self._tokens.ttl_secs, now + self._memory)
        while len(self._calls) > self._max:
            self._calls.popitem(last=False)
        return token

    def __len__(self) -> int:
        return len(self._calls)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
