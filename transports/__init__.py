"""Transports: the only package that knows Daily, LiveKit, WebSocket or Twilio exist."""

from transports.common import TRANSPORT_KINDS, TransportHandle, TransportKind
from transports.selector import TransportConfigError, create_transport

__all__ = ["TRANSPORT_KINDS", "TransportConfigError", "TransportHandle", "TransportKind", "create_transport"]
