"""Phone keypad shortcuts reach the LLM as the candidate's request, and the record."""

from __future__ import annotations

import pytest
from pipecat.audio.dtmf.types import KeypadEntry
from pipecat.frames.frames import InputDTMFFrame, InterruptionFrame, LLMMessagesAppendFrame
from pipecat.tests.utils import run_test
from pydantic import ValidationError

from interview.config import KeypadSettings
from processors.dtmf_requests import KeypadRequests


class Record:
    def __init__(self) -> None:
        self.events: list[tuple[str, dict]] = []

    def event(self, event_type: str, **data) -> None:
        self.events.append((event_type, data))

    def write_json(self, name, data):  # pragma: no cover - EventSink protocol
        raise NotImplementedError


async def test_star_and_hash_become_the_candidates_request_with_a_response_run() -> None:
    record, said = Record(), []
    keypad = KeypadRequests(KeypadSettings(), events=record, on_request=lambda key, text: said.append((key, text)))
    down, _ = await run_test(
        keypad,
        frames_to_send=[
            InputDTMFFrame(KeypadEntry.STAR),
            InputDTMFFrame(KeypadEntry.POUND),
            InputDTMFFrame(KeypadEntry.ONE),
        ],
    )
    appended = [f for f in down if isinstance(f, LLMMessagesAppendFrame)]
    assert [f.messages for f in appended] == [
        [{"role": "user", "content": "Could you repeat the question, please?"}],
        [{"role": "user", "content": "Please move on to the next question."}],
    ]
    assert all(f.run_llm for f in appended)
    assert [k for k, _ in said] == ["*", "#"]
    assert [d["key"] for _, d in record.events] == ["*", "#", "1"] and record.events[2][1]["request"] is None


async def test_a_request_interrupts_the_interviewer_before_its_reply_starts() -> None:
    """Both ways, before the append: the bot stops talking and any reply in flight is dropped."""
    down, up = await run_test(KeypadRequests(KeypadSettings()), frames_to_send=[InputDTMFFrame(KeypadEntry.STAR)])
    kinds = [type(f) for f in down]
    assert InterruptionFrame in kinds and kinds.index(InterruptionFrame) < kinds.index(LLMMessagesAppendFrame)
    assert any(isinstance(f, InterruptionFrame) for f in up)
    down, _ = await run_test(KeypadRequests(KeypadSettings()), frames_to_send=[InputDTMFFrame(KeypadEntry.ONE)])
    assert not any(isinstance(f, InterruptionFrame) for f in down), "a key with no request interrupts nothing"


async def test_keypad_can_be_configured_or_switched_off() -> None:
    custom = KeypadRequests(KeypadSettings(requests={"0": "Please end the interview."}))
    down, _ = await run_test(
        custom, frames_to_send=[InputDTMFFrame(KeypadEntry.ZERO), InputDTMFFrame(KeypadEntry.STAR)]
    )
    assert [f.messages[0]["content"] for f in down if isinstance(f, LLMMessagesAppendFrame)] == [
        "Please end the interview."
    ]
    off = KeypadRequests(KeypadSettings(enabled=False))
    down, _ = await run_test(off, frames_to_send=[InputDTMFFrame(KeypadEntry.STAR)])
    assert not any(isinstance(f, LLMMessagesAppendFrame) for f in down)


def test_keypad_config_names_bad_keys_and_empty_requests() -> None:
    with pytest.raises(ValidationError, match="unknown keypad key"):
        KeypadSettings(requests={"A": "x"})
    with pytest.raises(ValidationError, match="empty request"):
        KeypadSettings(requests={"*": " "})
