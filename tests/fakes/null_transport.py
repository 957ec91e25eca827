"""A transport with no network: pass-through input/output and the two candidate events.

For tests of a whole `InterviewSession` (its lifecycle, its record) that need a real
Pipecat worker but no socket; `joined()` / `left()` fire the events a real transport would.
"""

from __future__ import annotations

from pipecat.processors.filters.identity_filter import IdentityFilter
from pipecat.processors.frame_processor import FrameProcessor
from pipecat.transports.base_transport import BaseTransport

from transports.common import TransportHandle

JOINED, LEFT = "on_client_connected", "on_client_disconnected"


class NullTransport(BaseTransport):
    def __init__(self) -> None:
        super().__init__()
        self._input = IdentityFilter(name="null-input")
        self._output = IdentityFilter(name="null-output")
        self._register_event_handler(JOINED)
        self._register_event_handler(LEFT)

    def input(self) -> FrameProcessor:
        return self._input

    def output(self) -> FrameProcessor:
        return self._output

    async def joined(self) -> None:
        await self._call_event_handler(JOINED, None)

    async def left(self) -> None:
        await self._call_event_handler(LEFT, None)


def null_handle(sample_rate: int = 16000) -> tuple[TransportHandle, NullTransport]:
    transport = NullTransport()
    handle = TransportHandle(
        kind="websocket", transport=transport, input_sample_rate=sample_rate, output_sample_rate=sample_rate,
        joined_event=JOINED, left_event=LEFT, description="null transport",
    )  # fmt: skip
    return handle, transport
