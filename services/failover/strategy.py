"""Which service of a failover chain is active: switch on any failure, probe the primary back.

Pipecat's `ServiceSwitcherStrategyFailover` switches only when a service reports itself
unusable (401/403/400/404/422, exhausted reconnects); a 5xx, 429, timeout, dropped socket or
slowness never switches. This strategy switches on *every* error from the active service and
on failures reported by the switcher (first-byte timeout, latency breaker), walking the chain
in order. Each service has a `CircuitBreaker` (opens on one failure): after
`recovery_secs` it is half-open, and `maybe_recover()` — called by the switcher at a turn
boundary, never mid-turn — makes the best half-open service active again for a trial turn;
success closes its breaker, failure re-opens it and fails over again.
"""

from __future__ import annotations

from pipecat.frames.frames import ErrorFrame
from pipecat.pipeline.service_switcher import ServiceSwitcherStrategyManual
from pipecat.processors.frame_processor import FrameProcessor

from latency.circuit_breaker import BreakerState, CircuitBreaker

DEFAULT_RECOVERY_SECS = 30.0


class FailoverStrategy(ServiceSwitcherStrategyManual):
    """Primary first, then each fallback; see the module docstring."""

    def __init__(self, services: list[FrameProcessor]) -> None:
        super().__init__(services)
        self.breakers: dict[FrameProcessor, CircuitBreaker] = {}
        self.configure(DEFAULT_RECOVERY_SECS)

    def configure(self, recovery_secs: float, names: list[str] | None = None) -> None:
        """Recovery time before a failed service is tried again; `names` label the breakers."""
        labels = names or [s.name for s in self.services]
        if len(labels) != len(self.services):
            raise ValueError(f"{len(labels)} names for {len(self.services)} services")
        self.breakers = {
            service: CircuitBreaker(1, recovery_secs, name=label)
            for service, label in zip(self.services, labels, strict=True)
        }

    @property
    def primary(self) -> FrameProcessor:
        return self.services[0]

    def available(self, service: FrameProcessor) -> bool:
        return service.is_usable and self.breakers[service].allow_request()

    async def handle_error(self, error: ErrorFrame) -> FrameProcessor | None:
        return await self.fail(error.processor or self.active_service, str(error.error))

    async def fail(self, service: FrameProcessor, reason: str) -> FrameProcessor | None:
        """Count a failure against `service`; if it was active, switch to the next available one."""
        self.breakers[service].record_failure(reason)
        if service is not self.active_service:
            return None
        start = self.services.index(service)
        for candidate in self.services[start + 1 :]:
            if self.available(candidate):
                return await self._set_active_if_available(candidate)
        return None

    def succeeded(self, service: FrameProcessor) -> bool:
        """A turn went well on `service`; True when that closed a half-open breaker (recovered)."""
        breaker = self.breakers[service]
        was_trial = breaker.state is BreakerState.HALF_OPEN
        breaker.record_success("turn answered")
        return was_trial

    async def maybe_recover(self) -> FrameProcessor | None:
        """At a turn boundary: make the best half-open service ahead of the active one active (a trial)."""
        for service in self.services[: self.services.index(self.active_service)]:
            if service.is_usable and self.breakers[service].state is BreakerState.HALF_OPEN:
                return await self._set_active_if_available(service)
        return None
