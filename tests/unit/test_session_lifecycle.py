"""The session record is always closed (issue #13, item 5).

Reports that raise or are cancelled still leave `session_ended` and a closed record, and a
session that cannot be built leaves no half-open record behind.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from pipecat.frames.frames import MetricsFrame
from pipecat.metrics.metrics import STTUsage, STTUsageMetricsData
from pipecat.processors.filters.identity_filter import IdentityFilter

import bots.session as session_module
from bots.session import InterviewSession
from interview.loader import load_interview_config
from services.errors import ProviderConfigError
from services.factory import SessionServices
from services.local_interviewer import LocalInterviewerLLMService
from settings import Settings
from tests.fakes.null_transport import null_handle

CONFIG = load_interview_config("senior_backend_engineer")


@pytest.fixture
def offline_services(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pass-through STT/TTS and the structured interviewer: the lifecycle, not the models, is under test."""

    def create(settings, config, **kwargs):  # type: ignore[no-untyped-def]
        return SessionServices(
            stt=IdentityFilter(),
            llm=LocalInterviewerLLMService(config),
            tts=IdentityFilter(),
            providers={"stt": "none"},
        )

    monkeypatch.setattr(session_module, "create_session_services", create)


def _settings(tmp_path: Path) -> Settings:
    return Settings(_env_file=None, sessions_dir=tmp_path / "sessions", openai_api_key=None, openai_base_url=None)  # type: ignore[call-arg]


def _events(session: InterviewSession) -> list[dict]:
    return [json.loads(line) for line in session.record.events_path.read_text().splitlines()]


async def _run_and_cancel_worker(session: InterviewSession) -> asyncio.Task:
    task = asyncio.create_task(session.run())
    await asyncio.sleep(0.3)
    await session.worker.cancel(reason="test")
    return task


async def test_reports_that_raise_still_end_and_close_the_record(tmp_path: Path, offline_services: None) -> None:
    handle, _ = null_handle()
    session = InterviewSession(_settings(tmp_path), CONFIG, handle)

    async def broken_finalize(**_kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("disk on fire")

    session.parts.evaluator.finalize = broken_finalize  # type: ignore[method-assign]
    outcome = await asyncio.wait_for(await _run_and_cancel_worker(session), 20)
    events = _events(session)
    assert any(e["type"] == "error" and "disk on fire" in e["message"] for e in events)
    assert events[-1]["type"] == "session_ended" and session.record._closed
    assert outcome.end_reason == "cancelled"


async def test_cancelled_reports_still_end_and_close_the_record(tmp_path: Path, offline_services: None) -> None:
    handle, _ = null_handle()
    session = InterviewSession(_settings(tmp_path), CONFIG, handle)
    scoring = asyncio.Event()

    async def slow_finalize(**_kwargs):  # type: ignore[no-untyped-def]
        scoring.set()
        await asyncio.sleep(3600)

    session.parts.evaluator.finalize = slow_finalize  # type: ignore[method-assign]
    task = await _run_and_cancel_worker(session)
    await asyncio.wait_for(scoring.wait(), 20)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert _events(session)[-1]["type"] == "session_ended" and session.record._closed
    assert (session.record.directory / "report.html").is_file()


def test_a_session_that_cannot_be_built_opens_no_record(tmp_path: Path) -> None:
    settings = Settings(
        _env_file=None,
        sessions_dir=tmp_path / "sessions",
        llm_provider="cloud",
        openai_api_key=None,
        openai_base_url=None,
    )  # type: ignore[call-arg]
    handle, _ = null_handle()
    with pytest.raises(ProviderConfigError):
        InterviewSession(settings, CONFIG, handle)
    assert not (tmp_path / "sessions").exists() or not any((tmp_path / "sessions").iterdir())


def test_a_failure_after_the_record_opened_closes_it_with_the_reason(
    tmp_path: Path, offline_services: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_pipeline(*_args, **_kwargs):  # type: ignore[no-untyped-def]
        raise ValueError("no pipeline today")

    monkeypatch.setattr(session_module, "build_interview_pipeline", broken_pipeline)
    handle, _ = null_handle()
    with pytest.raises(ValueError):
        InterviewSession(_settings(tmp_path), CONFIG, handle)
    (directory,) = (tmp_path / "sessions").iterdir()
    events = [json.loads(line) for line in (directory / "events.jsonl").read_text().splitlines()]
    assert events[-1] == {**events[-1], "type": "session_ended", "reason": "error"}
    assert "no pipeline today" in events[-2]["message"]


async def test_scoring_gets_the_sessions_evaluation_timeout(tmp_path: Path, offline_services: None) -> None:
    """What a stop shortens (bots/graceful_stop.py) is what the evaluator is given."""
    handle, _ = null_handle()
    session = InterviewSession(_settings(tmp_path), CONFIG, handle)
    seen: list[float] = []
    original = session.parts.evaluator.finalize

    async def finalize(timeout: float):  # type: ignore[no-untyped-def]
        seen.append(timeout)
        return await original(timeout=timeout)

    session.parts.evaluator.finalize = finalize  # type: ignore[method-assign]
    session.evaluation_timeout = 7.0
    await asyncio.wait_for(await _run_and_cancel_worker(session), 20)
    assert seen == [7.0]


async def test_the_budget_ends_any_session_with_a_goodbye_from_its_one_meter(
    tmp_path: Path, offline_services: None
) -> None:
    """The guard is the session's own (every transport), fed by the meter its report prices."""
    config = CONFIG.model_copy(update={"budget": CONFIG.budget.model_copy(update={"limit_usd": 0.001})})
    handle, _ = null_handle()
    session = InterviewSession(_settings(tmp_path), config, handle)
    task = asyncio.create_task(session.run())
    await asyncio.sleep(0.3)
    usage = STTUsageMetricsData(processor="stt", value=STTUsage(audio_seconds=60))  # "stt" is charged: not local
    await session.worker.queue_frame(MetricsFrame(data=[usage]))
    for _ in range(100):
        if session.ending:
            break
        await asyncio.sleep(0.05)
    await session.worker.cancel(reason="test")
    outcome = await asyncio.wait_for(task, 20)
    (exhausted,) = [e for e in _events(session) if e["type"] == "budget_exhausted"]
    assert exhausted["limit_usd"] == 0.001 and exhausted["spent_usd"] == session.spend.summary()["estimated_usd"]
    assert outcome.end_reason == "budget_exhausted"
    assert next(e for e in _events(session) if e["type"] == "session_ended")["cost"]["estimated_usd"] > 0.001
