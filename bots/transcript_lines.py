"""The session's transcript lines, with a resumed answer kept as one candidate line.

Why hold the candidate's line: the answer is only known to be over once the interviewer's
reply to it was heard. If the candidate went on after the reply began
(``processors.resumed_answer``), the cut-off reply is not a transcript line (it goes to
``events.jsonl`` as ``reply_cut_by_resumed_answer``, so nothing is lost) and the two parts
of the answer are written as one line. The held line is written before the next line of
any kind, and at the end of the session.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

WriteLine = Callable[..., None]  # SessionRecord.transcript(speaker, text, **extra)
WriteEvent = Callable[..., None]  # SessionRecord.event(kind, **data)


@dataclass
class _HeldLine:
    text: str
    phase: str
    extra: dict[str, Any]


class TranscriptLines:
    def __init__(self, write_line: WriteLine, write_event: WriteEvent) -> None:
        self._write_line = write_line
        self._write_event = write_event
        self._held: _HeldLine | None = None
        self._resumed = False  # the held answer goes on: the next candidate words join it

    def candidate(self, text: str, phase: str, **extra: Any) -> None:
        if self._held is not None and self._resumed:
            self._held.text = f"{self._held.text} {text}".strip()
            self._held.extra["resumed"] = True
            self._resumed = False
            return
        self.flush()
        self._held = _HeldLine(text, phase, dict(extra))

    def interviewer(self, text: str, phase: str, **extra: Any) -> None:
        if self._resumed:
            self._write_event("reply_cut_by_resumed_answer", text=text)
            return
        self.flush()
        self._write_line("interviewer", text, phase=phase, **extra)

    def answer_resumed(self) -> None:
        """The candidate went on with the held answer; the reply under way is not a line."""
        if self._held is not None:
            self._resumed = True

    def flush(self) -> None:
        held, self._held, self._resumed = self._held, None, False
        if held is not None:
            self._write_line("candidate", held.text, phase=held.phase, **held.extra)
