"""The real session pipeline carries the design card's four processors, in the order frames meet them."""

from __future__ import annotations

from pathlib import Path

from pipecat.processors.frame_processor import FrameProcessor

from bots.session import InterviewSession
from interview.loader import load_interview_config
from processors.echo_gate import EchoGate
from processors.interview_evaluator import InterviewEvaluator
from processors.latency_probe import LatencyProbe
from processors.phase_tracker import PhaseTracker
from settings import Settings
from tests.fakes.null_transport import null_handle


def test_the_session_pipeline_holds_echo_gate_probes_evaluator_and_phase_tracker_in_order(tmp_path: Path) -> None:
    settings = Settings(
        _env_file=None, sessions_dir=tmp_path, stt_provider="local", llm_provider="local", tts_provider="local"
    )  # type: ignore[call-arg]
    handle, _ = null_handle()
    session = InterviewSession(settings, load_interview_config("senior_backend_engineer"), handle)
    try:
        processors: list[FrameProcessor] = list(session.parts.pipeline.processors)
        services = session.services

        def at(processor: FrameProcessor) -> int:
            return next(i for i, p in enumerate(processors) if p is processor)

        probes = {p.point: at(p) for p in processors if isinstance(p, LatencyProbe)}
        assert list(probes) == ["input", "stt", "user", "llm", "tts", "output"]  # one per point, in order
        [gate] = [p for p in processors if isinstance(p, EchoGate)]
        [evaluator] = [p for p in processors if isinstance(p, InterviewEvaluator)]
        [tracker] = [p for p in processors if isinstance(p, PhaseTracker)]
        assert at(handle.transport.input()) < probes["input"] < at(gate) < at(services.stt) < probes["stt"]
        assert probes["stt"] < at(session.parts.user_aggregator) < probes["user"] < at(evaluator) < at(tracker)
        assert at(tracker) < at(services.llm) < probes["llm"] < at(services.tts) < probes["tts"]
        assert probes["tts"] < at(handle.transport.output()) < probes["output"]
        assert probes["output"] < at(session.parts.assistant_aggregator) == len(processors) - 2  # then the sink
        # the same objects the session's lifecycle talks to
        assert session.parts.evaluator is evaluator and session.tracker is tracker
        assert all(p.tracker is session.parts.latency.tracker for p in processors if isinstance(p, LatencyProbe))
    finally:
        session.record.close()
