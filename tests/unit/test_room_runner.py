"""Room-session wiring in bots/runners.py: contract instructions, SIGTERM as a clean stop."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path
from types import SimpleNamespace

import pytest

import bots.runners as runners
from bots.budget import BudgetGuard
from bots.graceful_stop import GracefulStop
from bots.session import InterviewSession, SessionOutcome
from interview.loader import load_interview_config
from settings import Settings


class Calls:
    def __init__(self) -> None:
        self.items: list[tuple] = []

    def recorder(self, name: str):  # type: ignore[no-untyped-def]
        async def call(*args, **kwargs):  # type: ignore[no-untyped-def]
            self.items.append((name, args, kwargs))

        return call


def stub_session(calls: Calls, providers: dict[str, str], ending: bool = False) -> SimpleNamespace:
    return SimpleNamespace(
        services=SimpleNamespace(providers=providers),
        record=SimpleNamespace(event=lambda name, **data: calls.items.append(("event", (name,), data))),
        end=calls.recorder("end_session"),
        ending=ending,
        cancel=calls.recorder("cancel"),
        evaluation_timeout=180.0,
    )


def settings(tmp_path: Path) -> Settings:
    return Settings(
        _env_file=None, sessions_dir=tmp_path, stt_provider="local", llm_provider="local", tts_provider="local"
    )  # type: ignore[call-arg]


class FakeHandle:
    def __init__(self) -> None:
        self.joined = None

    def on_candidate_joined(self, callback):  # type: ignore[no-untyped-def]
        self.joined = callback


@pytest.mark.parametrize("joined", [False, True])
async def test_sigterm_cancels_before_the_candidate_and_says_goodbye_after(joined: bool) -> None:
    calls, handle = Calls(), FakeHandle()
    stop = GracefulStop()
    stop.track(stub_session(calls, {}), handle)  # type: ignore[arg-type]
    if joined:
        await handle.joined()
    stop.install()
    try:
        os.kill(os.getpid(), signal.SIGTERM)
        for _ in range(50):
            await asyncio.sleep(0.01)
            if any(c[0] in ("cancel", "end_session") for c in calls.items):
                break
    finally:
        stop.uninstall()
    assert stop.requested
    names = [c[0] for c in calls.items if c[0] != "event"]
    assert names == (["end_session"] if joined else ["cancel"])
    if joined:
        assert calls.items[-1][2]["end_reason"] == "stopped"


async def test_the_stop_task_is_held_so_it_cannot_be_collected_mid_goodbye() -> None:
    """asyncio keeps only a weak reference to a task: the stop must be held until it has run."""
    import gc
    import weakref

    calls, handle = Calls(), FakeHandle()
    stop = GracefulStop()
    stop.track(stub_session(calls, {}), handle)  # type: ignore[arg-type]
    await handle.joined()
    stop.request()
    assert stop.task is not None
    held = weakref.ref(stop.task)
    gc.collect()
    assert held() is not None
    await asyncio.wait_for(stop.task, 5)
    assert [c[0] for c in calls.items if c[0] != "event"] == ["end_session"]


async def test_a_session_already_saying_goodbye_is_left_to_finish() -> None:
    calls, handle = Calls(), FakeHandle()
    stop = GracefulStop()
    stop.track(stub_session(calls, {}, ending=True), handle)  # type: ignore[arg-type]
    await handle.joined()
    stop.request()
    await asyncio.wait_for(stop.task, 5)  # type: ignore[arg-type]
    assert [c[0] for c in calls.items if c[0] != "event"] == []


async def test_a_stopped_session_scores_within_the_grace_period() -> None:
    """An LLM judge may take minutes; after SIGTERM scoring gets a budget that fits the launcher's grace."""
    from bots.session_timing import STOPPED_EVALUATION_TIMEOUT_SECS

    calls, handle = Calls(), FakeHandle()
    session = stub_session(calls, {})
    stop = GracefulStop()
    stop.track(session, handle)  # type: ignore[arg-type]
    await handle.joined()
    stop.request()
    await asyncio.wait_for(stop.task, 5)  # type: ignore[arg-type]
    assert session.evaluation_timeout == STOPPED_EVALUATION_TIMEOUT_SECS < 30


async def test_run_room_session_applies_instructions_and_budget(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:  # type: ignore[no-untyped-def]
    seen: dict = {}

    async def fake_run(self: InterviewSession) -> SessionOutcome:
        seen["messages"] = list(self.parts.context.get_messages())
        seen["observers"] = list(self.worker._observer._observers)  # pipecat's WorkerObserver keeps them here
        return SessionOutcome(self.session_id, self.record.directory, "cancelled")

    monkeypatch.setattr(InterviewSession, "run", fake_run)
    config = load_interview_config("senior_backend_engineer").model_copy(
        update={"budget": load_interview_config("senior_backend_engineer").budget.model_copy(update={"limit_usd": 1.0})}
    )
    outcome = await runners.run_room_session(
        settings(tmp_path),
        config,
        kind="livekit",
        persona="interviewer",
        instructions="Ask about Rust.",
        url="wss://lk.example",
        token="t",
        room_name="r",
        candidate_identity="cand",
    )
    assert outcome.end_reason == "cancelled"
    assert seen["messages"][-1] == {"role": "system", "content": "Session instructions: Ask about Rust."}
    assert any(isinstance(o, BudgetGuard) for o in seen["observers"])
    out = capsys.readouterr().out
    assert "Session ready: livekit room r" in out and f"Session record: {outcome.directory}" in out
