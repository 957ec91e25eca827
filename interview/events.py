"""Where the app's parts report events: the session record, as a protocol.

Shared vocabulary, in the domain because it needs nothing but the standard library: processors,
the turn-taking strategy, latency and the pipeline report through this small interface, which
`bots.session_record.SessionRecord` satisfies (tests may pass anything with the same two methods).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol


class EventSink(Protocol):
    def event(self, event_type: str, **data: Any) -> None:
        """Append one event line (flushed at once)."""

    def write_json(self, name: str, data: dict[str, Any]) -> Path:
        """Write a whole JSON document next to the transcript (e.g. latency.json)."""
