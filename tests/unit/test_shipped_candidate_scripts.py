"""The shipped candidate scripts fit the structured interviewer's flow answer for answer.

The demo plays these scripts against the no-LLM interviewer; if a config or the
engine changes so that follow-ups move, the scripts must move with them, or the
demo transcript turns into answers to the wrong questions.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from interview.loader import bundled_config_names, load_interview_config
from interview.state import InterviewState
from interview.structured_interviewer import StructuredInterviewer
from interview.tools import InterviewToolHandlers
from scripts.candidate_script import load_candidate_script

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts" / "candidates"


@pytest.mark.parametrize("name", bundled_config_names())
def test_script_covers_the_interview_exactly(name: str) -> None:
    config = load_interview_config(name)
    script = load_candidate_script(SCRIPTS / f"{name}.yaml")
    engine = StructuredInterviewer(config)
    handlers = InterviewToolHandlers(config, InterviewState.start(config, time.monotonic()))
    messages: list[dict] = [{"role": "system", "content": "prompt"}]
    used = 0
    for _ in range(100):
        move = engine.next_move(messages)
        messages.append({"role": "assistant", "content": move.text})
        if move.tool_call is not None:
            result = handlers.handle(move.tool_call.name, dict(move.tool_call.arguments))
            messages.append({"role": "tool", "content": result.text})
            if result.end_session:
                break
            continue
        answer, _fallback = script.answer_for(used)
        used += 1
        messages.append({"role": "user", "content": answer.text})
    assert engine.finished
    assert used == len(script.answers), (
        f"{name}: the interview took {used} answers, the script has {len(script.answers)}"
    )
