"""A session's failover switchers wired to its record, its latency report, its filler and its latency breaker.

Failover events go to `events.jsonl` and `latency.json` (and start the filler phrase when a
turn is under way); when the latency breaker opens, the stage with the worst latency window
is degraded to its fallback.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from interview.events import EventSink
from latency.circuit_breaker import BreakerState
from latency.instrumentation import LatencyInstrumentation
from processors.filler_speech import FillerSpeech
from services.failover.switcher import FailoverSwitcher

LATENCY_STAGES = {"stt": "stt", "llm_ttfb": "llm", "tts_ttfb": "tts"}  # latency stage -> failover stage


def wire_failover(
    switchers: Mapping[str, FailoverSwitcher],
    *,
    events: EventSink,
    latency: LatencyInstrumentation,
    filler: FillerSpeech | None,
) -> None:
    async def on_event(event: str, data: dict[str, Any]) -> None:
        events.event(event, **data)
        latency.tracker.incident(event, **data)
        if event == "failover" and data.get("during_turn") and filler is not None:
            await filler.failover_started(data["stage"])

    for switcher in switchers.values():
        switcher.set_listener(on_event)

    def on_breaker(_old: BreakerState, new: BreakerState, reason: str) -> None:
        if new is not BreakerState.OPEN:
            return
        stage = LATENCY_STAGES.get(latency.tracker.worst_window_stage() or "")
        if stage is not None and stage in switchers:
            switchers[stage].degrade(f"latency breaker open: {reason}")

    latency.breaker.subscribe(on_breaker)
