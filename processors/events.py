"""What our processors need from the session record, as a protocol.

Processors know frames, not sessions: they report through this small interface,
which `bots.session_record.SessionRecord` satisfies (tests may pass anything with
the same two methods).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol


class EventSink(Protocol):
    def event(self, event_type: str, **data: Any) -> None:
        """Append one event line (flushed at once)."""

    def write_json(self, name: str, data: dict[str, Any]) -> Path:
        """Write a whole JSON document next to the transcript (e.g. latency.json)."""
