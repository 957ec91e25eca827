"""Faults an emulator can be told to inject, and the queue it takes them from.

Why: a provider fails in a handful of ways (refuses the connection, answers 5xx or 429,
accepts and then says nothing, answers late, drops the socket mid-stream, sends garbage),
and failover code is only trustworthy once each of them has happened to it. Every emulator
takes faults from one `FaultPlan`: connection faults (`refuse`, `http_error`) apply to the
next connection or request, stream faults (`hang`, `slow_first_byte`, `drop`, `malformed`)
to the next unit of work (a Deepgram utterance, an ElevenLabs context, an OpenAI request), in
the order they were injected.

    plan = FaultPlan()
    plan.inject(Fault.parse("http_error:503"), Fault.parse("slow_first_byte:1.5"))

Spec strings (CLI `--fault`, tests): `refuse`, `http_error[:STATUS]` (default 503; 429 is
rate limiting), `hang`, `slow_first_byte[:SECONDS]` (default 2), `drop[:AFTER]` (after that
many messages/chunks, default 1), `malformed`; append `*N` to apply it N times (`hang*2`).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from enum import Enum


class FaultKind(str, Enum):
    REFUSE = "refuse"  # close the TCP connection before any HTTP response
    HTTP_ERROR = "http_error"  # answer the handshake/request with `status` and a provider-shaped body
    HANG = "hang"  # accept, then never send a byte for this unit of work
    SLOW_FIRST_BYTE = "slow_first_byte"  # wait `delay_secs`, then behave normally
    DROP = "drop"  # send `after` messages, then drop the socket without a close handshake
    MALFORMED = "malformed"  # send a message that is not the provider's protocol instead of the answer


CONNECTION_FAULTS = frozenset({FaultKind.REFUSE, FaultKind.HTTP_ERROR})


@dataclass(frozen=True)
class Fault:
    kind: FaultKind
    status: int = 503
    delay_secs: float = 2.0
    after: int = 1

    @property
    def on_connect(self) -> bool:
        return self.kind in CONNECTION_FAULTS

    @classmethod
    def parse(cls, spec: str) -> list[Fault]:
        """`kind[:value][*times]` -> that many faults; a bad spec raises ValueError naming it."""
        text, _, times_text = spec.strip().partition("*")
        name, _, value = text.partition(":")
        try:
            kind = FaultKind(name)
        except ValueError:
            raise ValueError(f"unknown fault {name!r} in {spec!r}; one of {[k.value for k in FaultKind]}") from None
        try:
            times = int(times_text) if times_text else 1
            fault = cls(kind)
            if value and kind is FaultKind.HTTP_ERROR:
                fault = cls(kind, status=int(value))
            elif value and kind is FaultKind.SLOW_FIRST_BYTE:
                fault = cls(kind, delay_secs=float(value))
            elif value and kind is FaultKind.DROP:
                fault = cls(kind, after=int(value))
            elif value:
                raise ValueError(f"fault {name!r} takes no value")
        except ValueError as exc:
            raise ValueError(f"bad fault spec {spec!r}: {exc}") from None
        if times < 1 or (kind is FaultKind.HTTP_ERROR and not 400 <= fault.status <= 599):
            raise ValueError(f"bad fault spec {spec!r}: times must be >= 1 and status 400-599")
        return [fault] * times


class FaultPlan:
    """Faults waiting to be applied, in order; what was applied is kept in `applied`."""

    def __init__(self, *faults: Fault) -> None:
        self._pending: deque[Fault] = deque(faults)
        self.applied: list[Fault] = []

    def inject(self, *faults: Fault | str) -> None:
        for fault in faults:
            self._pending.extend(Fault.parse(fault) if isinstance(fault, str) else [fault])

    def clear(self) -> None:
        self._pending.clear()

    @property
    def pending(self) -> list[Fault]:
        return list(self._pending)

    def take(self, *, on_connect: bool) -> Fault | None:
        """The next fault if it is of that phase (connection or unit of work), removed from the plan.

        Strictly in order: `drop, http_error*3` drops a stream first, then refuses the reconnects.
        """
        if not self._pending or self._pending[0].on_connect != on_connect:
            return None
        fault = self._pending.popleft()
        self.applied.append(fault)
        return fault
