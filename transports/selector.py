"""The transport selector: the one entry point that turns a kind into a transport, on every path.

Room transports (daily, livekit) are built from a room (bots/runners.py); connection-accepting
ones (websocket, twilio) from an accepted socket (transports/websocket_server.py, bots/phone.py).
Module imports happen on demand so a WebSocket session never loads the Daily or LiveKit SDKs.
"""

from __future__ import annotations

from typing import Any

from transports.common import TRANSPORT_KINDS, TransportHandle, TransportKind


class TransportConfigError(ValueError):
    """A transport asked for with missing or wrong arguments."""


def create_transport(kind: TransportKind, **kwargs: Any) -> TransportHandle:
    if kind == "websocket":
        from transports.websocket import create_websocket_transport

        return _call(kind, create_websocket_transport, kwargs)
    if kind == "twilio":
        from transports.twilio import create_twilio_transport

        return _call(kind, create_twilio_transport, kwargs)
    if kind == "daily":
        from transports.daily import create_daily_transport

        return _call(kind, create_daily_transport, kwargs)
    if kind == "livekit":
        from transports.livekit import create_livekit_transport

        return _call(kind, create_livekit_transport, kwargs)
    raise TransportConfigError(f"unknown transport '{kind}' (choose from {', '.join(TRANSPORT_KINDS)})")


def _call(kind: str, factory: Any, kwargs: dict[str, Any]) -> TransportHandle:
    try:
        return factory(**kwargs)
    except TypeError as exc:
        raise TransportConfigError(f"transport '{kind}': {exc}") from exc
