"""What every transport hands to a session, whatever it is built on.

A session needs the Pipecat transport, the audio rates its pipeline must run
at, and two moments: the candidate joined (start the interview) and the
candidate left (end it). Each transport module names its own events for those;
`TransportHandle` hides the names so bots/ never learns which transport it has.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:  # keep `bot.py --help` and flag errors free of the Pipecat import
    from pipecat.transports.base_transport import BaseTransport

TransportKind = Literal["websocket", "twilio", "daily", "livekit"]
TRANSPORT_KINDS: tuple[TransportKind, ...] = ("websocket", "twilio", "daily", "livekit")

CandidateCallback = Callable[[], Awaitable[None]]


class PlaybackReports(Protocol):
    """A transport that knows when the listener hears the bot (Twilio marks) tells its listeners."""

    def add_listener(self, listener: Any) -> None: ...


class SessionRefused(Exception):
    """The connection asks for something the server will not give it (e.g. an unknown resume token).

    Raised by a session runner before the session starts; the server closes the connection with
    `close_code` and `reason`, which the candidate page shows."""

    def __init__(self, reason: str, close_code: int = 4404) -> None:
        super().__init__(reason)
        self.reason = reason
        self.close_code = close_code


@dataclass(frozen=True)
class TransportHandle:
    kind: TransportKind
    transport: BaseTransport
    input_sample_rate: int
    output_sample_rate: int
    joined_event: str
    left_event: str
    description: str = ""
    # Transport-specific processors the pipeline puts right after transport.input() and right
    # before transport.output() (e.g. Twilio playback marks, queued in order with the audio).
    after_input: tuple[Any, ...] = ()
    before_output: tuple[Any, ...] = ()
    # Set when the transport reports playback at the listener; the session listens to it.
    playback: PlaybackReports | None = None
    # Whether a client on this transport speaks RTVI (the candidate page, Pipecat's client SDKs).
    # A phone does not: without it the session has no RTVI processor hop and no RTVI observer,
    # which sees every push of every frame.
    rtvi: bool = True
    # The resume token the client came back with (a dropped WebSocket candidate reconnecting), if any.
    resume_token: str | None = None
    # After the candidate left: did they mean to (End pressed), or did the connection drop? Transports
    # that cannot tell say "on purpose" (the interview ends, as before).
    left_on_purpose: Callable[[], bool] = lambda: True

    def on_candidate_joined(self, callback: CandidateCallback) -> None:
        self._bind(self.joined_event, callback)

    def on_candidate_left(self, callback: CandidateCallback) -> None:
        self._bind(self.left_event, callback)

    def _bind(self, event: str, callback: CandidateCallback) -> None:
        async def handler(_transport: BaseTransport, *_args: Any) -> None:
            await callback()

        self.transport.add_event_handler(event, handler)
