"""The session's transcript lines, with a resumed answer kept as one candidate line.

Why hold the candidate's line: the answer is only known to be over once the interviewer's
reply to it was heard. If the candidate went on after the reply began
(``processors.resumed_answer``), the cut-off reply is not a transcript line (it goes to
``events.jsonl`` as ``reply_cut_by_resumed_answer``, so nothing is lost) and the two parts
of the answer are written as one line. The held line is written before the next line of
any kind, and at the end of the session.

Every line written is also handed to ``on_line`` (the interview evaluator builds its
question/answer pairs from them: one transcript, assembled once).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from loguru import logger

WriteLine = Callable[..., None]  # SessionRecord.transcript(speaker, text, **extra)
WriteEvent = Callable[..., None]  # SessionRecord.event(kind, **data)
LineListener = Callable[[str, str, str], None]  # (speaker, text, phase)


@dataclass
class _HeldLine:
    text: str
    phase: str
    extra: dict[str, Any]


class TranscriptLines:
    def __init__(self, write_line: WriteLine, write_event: WriteEvent, *, on_line: LineListener | None = None) -> None:
        self._write_line = write_line
        self._write_event = write_event
        self._on_line = on_line
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
        self._write("interviewer", text, phase, extra)

    def answer_resumed(self) -> None:
        """The candidate went on with the held answer; the reply under way is not a line."""
        if self._held is not None:
            self._resumed = True

    def held(self) -> tuple[str, str, dict[str, Any]] | None:
        """The answer not yet written (text, phase, extra): a snapshot keeps it."""
        return None if self._held is None else (self._held.text, self._held.phase, dict(self._held.extra))

    def hold(self, text: str, phase: str, extra: dict[str, Any]) -> None:
        """Hold an answer a resumed session takes over (it is written with the next line, as before)."""
        self._held = _HeldLine(text, phase, dict(extra))

    def flush(self) -> None:
        held, self._held, self._resumed = self._held, None, False
        if held is not None:
            self._write("candidate", held.text, held.phase, held.extra)

    def _write(self, speaker: str, text: str, phase: str, extra: dict[str, Any]) -> None:
        self._write_line(speaker, text, phase=phase, **extra)
        if self._on_line is None:
            return
        try:
            self._on_line(speaker, text, phase)
        except Exception:  # the line is written; a listener's bug must not break the session
            logger.exception(f"transcript line listener failed on a {speaker} line")
