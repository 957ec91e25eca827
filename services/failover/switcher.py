"""A ServiceSwitcher that fails over on anything and answers the failed turn on the next service.

What Pipecat 1.14 lacks, and this adds on top of its `ServiceSwitcher`:
- its failover strategy ignores 5xx, 429, timeouts, dropped sockets and slowness (it switches
  only on permanent errors) — `FailoverStrategy` switches on every error, on a per-stage
  first-byte timeout, and when the latency breaker blames this stage, then probes the primary
  again after a recovery time;
- it never re-issues the failed request — subclasses (`LLMFailover`, `TTSFailover`,
  `STTFailover`) replay the turn's input on the new service, and a gate after every service
  keeps the failed one's late output (and our replayed input) out of the pipeline, so nothing
  is said or transcribed twice;
- nothing is recorded — every switch, retry and recovery is an event in the session record and
  a note in latency.json (through `FailoverListener`).

Pipecat's switcher gates only what goes *into* a service; a hung request that answers after
the switch would still come out. `_OutputGate` closes that door.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from loguru import logger
from pipecat.frames.frames import CancelFrame, EndFrame, ErrorFrame, Frame, InterruptionFrame, StartFrame
from pipecat.pipeline.service_switcher import ServiceSwitcher
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor

from services.failover.strategy import FailoverStrategy

# (event type, data) -> None; the session writes it to events.jsonl and latency.json
FailoverListener = Callable[[str, dict[str, Any]], Awaitable[None] | None]


@dataclass(frozen=True)
class FailoverPolicy:
    """Per stage: how long the active service may stay silent, and when to try a failed one again."""

    timeout_secs: float = 3.0
    recovery_secs: float = 30.0

    def __post_init__(self) -> None:
        if self.timeout_secs <= 0 or self.recovery_secs <= 0:
            raise ValueError(
                f"failover timeout and recovery must be > 0, got {self.timeout_secs}, {self.recovery_secs}"
            )


class _OutputGate(FrameProcessor):
    """After one service: lets its downstream output out only while it is active, and shows it to the owner."""

    def __init__(self, service: FrameProcessor, owner: FailoverSwitcher) -> None:
        super().__init__(name=f"{service.name}::gate", enable_direct_mode=True)
        self._service = service
        self._owner = owner

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if direction is FrameDirection.DOWNSTREAM and not isinstance(frame, (StartFrame, EndFrame, CancelFrame)):
            if self._service is not self._owner.strategy.active_service or frame.id in self._owner.injected:
                return
            if not await self._owner.on_output(self._service, frame):
                return
        await self.push_frame(frame, direction)


class FailoverSwitcher(ServiceSwitcher[FailoverStrategy]):
    """Primary first, then fallbacks; subclasses say what a turn is and how to replay it."""

    stage = "stage"

    def __init__(
        self,
        services: list[FrameProcessor],
        *,
        names: list[str],
        policy: FailoverPolicy,
        listener: FailoverListener | None = None,
    ) -> None:
        self.injected: set[int] = set()  # ids of frames we replayed: never let them out twice
        super().__init__(services, FailoverStrategy)
        self.names = dict(zip(services, names, strict=True))
        self.policy = policy
        self.strategy.configure(policy.recovery_secs, names)
        self._listener = listener
        self._watchdog: asyncio.Task | None = None
        self._watchdog_reason = ""
        self._degrade_reason: str | None = None
        self._exhausted = False

    def _make_pipeline_definitions(self, services: list[FrameProcessor], strategy: Any) -> list[Any]:  # type: ignore[override]
        return [[*ServiceSwitcher._make_pipeline_definition(s, strategy), _OutputGate(s, self)] for s in services]

    def set_listener(self, listener: FailoverListener | None) -> None:
        self._listener = listener

    @property
    def active_name(self) -> str:
        return self.names[self.strategy.active_service]

    # -- what subclasses implement -----------------------------------------------------------

    async def on_output(self, service: FrameProcessor, frame: Frame) -> bool:
        """A downstream frame from the active service; False drops it."""
        return True

    async def retry_turn(self, failed: FrameProcessor, reason: str) -> bool:
        """Replay the interrupted turn on the (new) active service; True if there was one."""
        return False

    def turn_in_progress(self) -> bool:
        return False

    # -- failure handling ----------------------------------------------------------------------

    async def push_frame(self, frame: Frame, direction: FrameDirection = FrameDirection.DOWNSTREAM) -> None:
        if frame.id in self.injected:
            return  # a replayed frame passed through the new service upstream: it was seen already
        if isinstance(frame, ErrorFrame) and not frame.fatal and frame.processor in self.services:
            if frame.processor is not self.strategy.active_service:
                return  # a service held in reserve (or already left): not the pipeline's concern
            if await self.fail(frame.processor, f"error: {frame.error}"):
                return  # answered for: the switcher carries on
            # nowhere left to go: the pipeline hears about it as usual (Pipecat's switcher reports it)
        await super().push_frame(frame, direction)

    async def fail(self, service: FrameProcessor, reason: str, *, stuck: bool = False) -> bool:
        """`service` failed: switch down the chain and replay the turn there; False when nothing is left.

        `stuck`: it is still busy with the request (timeout), so it is interrupted. After an
        error it is not (it finished the request; this runs in its own task).
        """
        self.disarm()
        in_turn = self.turn_in_progress()
        new = await self.strategy.fail(service, reason)
        if new is None:
            if service is self.strategy.active_service and not self._exhausted:
                self._exhausted = True  # once per turn (a timeout and the late error are one failure)
                logger.error(f"{self.stage} failover: {self.names[service]} failed ({reason}) and no fallback is left")
                await self.notify("failover_exhausted", service=self.names[service], reason=reason)
            return False
        logger.warning(f"{self.stage} failover: {self.names[service]} -> {self.names[new]} ({reason})")
        await self.notify("failover", from_service=self.names[service], to_service=self.names[new], reason=reason,
                          during_turn=in_turn)  # fmt: skip
        if stuck:
            await service.queue_frame(InterruptionFrame())  # stop its stuck request; its output is gated anyway
        if in_turn and await self.retry_turn(service, reason):
            await self.notify("failover_retry", service=self.names[new], reason=reason)
        return True

    def degrade(self, reason: str) -> None:
        """The latency breaker blames this stage: leave the active service from the next turn on.

        Not mid-turn: the reply under way is fine, only slow.
        """
        self._degrade_reason = reason

    async def at_turn_boundary(self) -> None:
        """A pending latency switch happens now; else a half-open earlier service gets this turn as a trial."""
        before = self.strategy.active_service
        self._exhausted = False
        if self._degrade_reason is not None:
            reason, self._degrade_reason = self._degrade_reason, None
            await self.fail(before, reason)
            return
        after = await self.strategy.maybe_recover()
        if after is not None and after is not before:
            await self.notify("failover_probe", from_service=self.names[before], to_service=self.names[after])

    async def succeeded(self, service: FrameProcessor) -> None:
        self.disarm()
        if self.strategy.succeeded(service):
            await self.notify("failover_recovered", service=self.names[service])

    # -- the first-byte / stall watchdog -----------------------------------------------------

    def arm(self, reason: str, timeout: float | None = None) -> None:
        """Fail the active service unless it produces output within the stage's timeout."""
        self.disarm()
        self._watchdog_reason = reason
        self._watchdog = self.create_task(
            self._expire(self.strategy.active_service, timeout or self.policy.timeout_secs)
        )

    def disarm(self) -> None:
        if self._watchdog is not None and not self._watchdog.done() and self._watchdog is not asyncio.current_task():
            self._watchdog.cancel()
        self._watchdog = None

    async def _expire(self, service: FrameProcessor, timeout: float) -> None:
        await asyncio.sleep(timeout)
        self._watchdog = None
        await self.fail(service, f"{self._watchdog_reason}: nothing within {timeout:g} s", stuck=True)

    async def inject(self, frame: Frame, direction: FrameDirection = FrameDirection.DOWNSTREAM) -> None:
        """Hand `frame` to the active service only; it will not leave the switcher itself."""
        self.injected.add(frame.id)
        index = self.services.index(self.strategy.active_service)
        await self._pipelines[index].queue_frame(frame, direction)

    async def notify(self, event: str, **data: Any) -> None:
        if self._listener is None:
            return
        try:
            result = self._listener(event, {"stage": self.stage, **data})
            if asyncio.iscoroutine(result):
                await result
        except Exception:
            logger.exception(f"{self.stage} failover: listener failed on {event}")

    async def cleanup(self) -> None:
        self.disarm()
        await super().cleanup()
