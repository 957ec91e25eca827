"""One interview session: config + services + transport -> pipeline -> worker -> record.

The same assembly serves both personas (interviewer, coach) and every transport;
the persona picks the prompt and the local engine's behaviour, the transport
handle says when the candidate arrives and leaves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from loguru import logger
from pipecat.frames.frames import LLMMessagesAppendFrame, LLMRunFrame
from pipecat.observers.base_observer import BaseObserver
from pipecat.pipeline.worker import PipelineParams, PipelineWorker
from pipecat.processors.aggregators.llm_context import LLMContext, LLMContextMessage
from pipecat.processors.frameworks.rtvi.frames import RTVIServerMessageFrame
from pipecat.workers.runner import WorkerRunner

from bots.budget import SpendMeter, UsageObserver, charged_stages, prices_from
from bots.session_playback import SessionPlayback
from bots.session_record import SessionRecord
from bots.session_timing import EVALUATION_TIMEOUT_SECS, JOINED_LINE
from bots.transcript_lines import TranscriptLines
from interview.config import InterviewConfig
from interview.evaluator import InterviewEvaluator
from interview.progress import session_message
from interview.prompts import PromptBuilder, SessionDetails
from interview.structured_interviewer import Persona
from latency.circuit_breaker import BreakerState
from latency.instrumentation import LatencyInstrumentation
from pipelines.interview import InterviewPipeline, InterviewProcessors, build_interview_pipeline
from processors.dtmf_requests import KeypadRequests
from processors.echo_gate import EchoGate
from processors.filler_speech import FillerSpeech
from processors.phase_tracker import PhaseTracker
from processors.resumed_answer import ResumedAnswer
from report import write_report
from services.factory import SessionServices, create_session_services
from services.scorers import create_scorer
from settings import Settings
from transports.common import TransportHandle

MAX_IDLE_NUDGES = 2
LATENCY_STAGES = {"stt": "stt", "llm_ttfb": "llm", "tts_ttfb": "tts"}  # latency stage -> failover stage
IDLE_NUDGE_INSTRUCTION = (
    "The candidate has been silent for a while. Briefly and kindly check in: offer to repeat "
    "or rephrase the last question. Do not move on."
)
SILENT_CANDIDATE_GOODBYE = (
    "It seems we may have lost you, so I'll end the interview here. We'll be in touch about next steps. Goodbye."
)


@dataclass(frozen=True)
class SessionOutcome:
    session_id: str
    directory: Path
    end_reason: str


class InterviewSession:
    """Builds and runs one session; every step of its life lands in the record."""

    def __init__(
        self,
        settings: Settings,
        config: InterviewConfig,
        handle: TransportHandle,
        *,
        persona: Persona = "interviewer",
        candidate_name: str | None = None,
        session_id: str | None = None,
        instructions: str | None = None,
    ):
        """`instructions`: extra system guidance from the session contract (a room's metadata)."""
        self._config = config
        self._handle = handle
        self._persona = persona
        self._left_early = False
        self._failed = False
        self._idle_timed_out = False
        self._idle_nudges = 0
        self._settings = settings
        self.evaluation_timeout = EVALUATION_TIMEOUT_SECS  # shortened when the process is told to stop
        # What can fail on bad settings comes first: a session that cannot be built opens no record.
        self.services: SessionServices = create_session_services(
            settings,
            config,
            persona=persona,
            input_sample_rate=handle.input_sample_rate,
            output_sample_rate=handle.output_sample_rate,
            candidate_name=candidate_name,
        )
        self._scorer = create_scorer(config, settings)
        self.record = SessionRecord.create(settings.sessions_dir, session_id)
        self.evaluator = InterviewEvaluator(config, self._scorer, events=self.record)
        self._lines = TranscriptLines(self.record.transcript, self.record.event, on_line=self.evaluator.on_line)
        try:
            self._write_config(candidate_name)
            self.spend = SpendMeter(prices_from(settings), charged=charged_stages(self.services.providers))
            self.parts: InterviewPipeline = self._build_pipeline(candidate_name)
            self.worker = PipelineWorker(
                self.parts.pipeline,
                params=PipelineParams(
                    audio_in_sample_rate=handle.input_sample_rate,
                    audio_out_sample_rate=handle.output_sample_rate,
                    enable_metrics=True,
                    enable_usage_metrics=True,
                ),
                idle_timeout_secs=config.timeouts.idle_cancel_seconds,
                conversation_id=self.record.session_id,
                observers=[*self.processors.latency.observers(), UsageObserver(self.spend)],
                enable_rtvi=handle.rtvi,
            )
            self._hook_events()
            if instructions:
                self.parts.context.add_message({"role": "system", "content": f"Session instructions: {instructions}"})
                self.record.event("session_instructions", text=instructions)
            if handle.playback is not None:
                handle.playback.add_listener(
                    SessionPlayback(self.processors.echo_gate, self.processors.latency.tracker)
                )
        except BaseException as exc:  # opened but never run: still closed, saying why
            self.record.event("error", message=f"session setup failed: {type(exc).__name__}: {exc}")
            self.record.event("session_ended", reason="error", duration_s=self.record.elapsed())
            self.record.close()
            raise

    @property
    def session_id(self) -> str:
        return self.record.session_id

    # --- what a runner may do to a running session -------------------------------------------

    def add_observer(self, observer: BaseObserver) -> None:
        """Watch every frame push (e.g. a budget guard), before or while the session runs."""
        self.worker.add_observer(observer)

    @property
    def ending(self) -> bool:
        """Already saying goodbye (a second end would cut the last words)."""
        return self.tracker.ending

    async def end(self, why: str, *, goodbye: str, end_reason: str) -> None:
        """Say `goodbye`, then end the interview cleanly with `end_reason` in the record."""
        await self.tracker.end_session(why, goodbye=goodbye, end_reason=end_reason)

    async def cancel(self, reason: str) -> None:
        """Stop at once, no goodbye (nobody is there to hear one)."""
        await self.worker.cancel(reason=reason)

    async def run(self) -> SessionOutcome:
        logger.info(f"session {self.session_id}: {self._handle.description}, providers {self.services.providers}")
        self.record.event(
            "session_started", transport=self._handle.kind, persona=self._persona, providers=self.services.providers
        )
        try:
            runner = WorkerRunner(handle_sigint=False)
            await runner.add_workers(self.worker)
            await runner.run()
        except Exception as exc:  # the record must still be closed with the reason
            self._failed = True
            self.record.event("error", message=f"{type(exc).__name__}: {exc}")
            logger.exception(f"session {self.session_id} failed")
        finally:
            await self._close_record()
        return SessionOutcome(self.session_id, self.record.directory, self.end_reason)

    async def _close_record(self) -> None:
        """Reports, then session_ended and close(): the last two even if the reports raise or are cancelled."""
        try:
            await self._finish_reports()
        except Exception as exc:
            self.record.event("error", message=f"session reports failed: {type(exc).__name__}: {exc}")
            logger.exception(f"session {self.session_id}: reports failed")
        finally:
            reason = self.end_reason
            self._lines.flush()
            self.record.event(
                "session_ended",
                reason=reason,
                duration_s=self.record.elapsed(),
                state=self.tracker.snapshot(),
                cost=self.spend.summary(),
            )
            self.record.close()
            self._write_report()
            logger.info(f"session {self.session_id} ended ({reason}); record: {self.record.directory}")

    async def _finish_reports(self) -> None:
        """latency.json and evaluation.json, whatever way the session ended (each never raises)."""
        self._lines.flush()  # the answer in progress is complete: the evaluator gets its line
        try:
            self.processors.latency.finalize()
        except Exception as exc:
            self.record.event("error", message=f"latency report failed: {type(exc).__name__}: {exc}")
        logger.info(f"session {self.session_id}: scoring the interview ({self._scorer.name})...")
        evaluation = await self.evaluator.finalize(timeout=self.evaluation_timeout)
        logger.info(f"session {self.session_id}: evaluation written ({evaluation.recommendation})")
        close = getattr(self._scorer, "aclose", None)
        if close is not None:
            await close()

    def _write_report(self) -> None:
        """report.html from the closed record; a rendering failure is logged, never raised."""
        try:
            path = write_report(self.record.directory)
        except Exception:
            logger.exception(f"session {self.session_id}: report.html could not be written")
            return
        logger.info(f"session {self.session_id}: report {path}")

    @property
    def end_reason(self) -> str:
        if self._failed:
            return "error"
        if self.tracker.ending:
            return self.tracker.end_reason
        if self._idle_timed_out:
            return "idle_timeout"
        return "candidate_left" if self._left_early else "cancelled"

    # --- assembly ---------------------------------------------------------------------

    def _build_pipeline(self, candidate_name: str | None) -> InterviewPipeline:
        builder = PromptBuilder(self._config)
        details = SessionDetails(
            candidate_name=candidate_name,
            session_id=self.session_id,
            started_at_iso=datetime.now(UTC).isoformat(timespec="seconds"),
            resume_note=None,
        )
        prompt = builder.coach_prompt(details) if self._persona == "coach" else builder.interviewer_prompt(details)
        context = LLMContext(messages=[{"role": "system", "content": prompt.text}])
        self.tracker = PhaseTracker(self._config, context, events=self.record)
        context.set_tools(self.tracker.tools_schema())
        self.processors = InterviewProcessors(
            echo_gate=EchoGate(self._config.echo_gate, events=self.record),
            phase_tracker=self.tracker,
            latency=LatencyInstrumentation.for_session(self._config, events=self.record),
            keypad=KeypadRequests(self._config.keypad, events=self.record, on_request=self._keypad_transcript),
            filler=self._build_filler(),
            resumed_answer=self._build_resumed_answer(context),
        )
        self._wire_failover()
        return build_interview_pipeline(
            transport=self._handle.transport,
            stt=self.services.stt,
            llm=self.services.llm,
            tts=self.services.tts,
            processors=self.processors,
            context=context,
            turn_taking=self._config.turn_taking,
            recording_sample_rate=self._handle.input_sample_rate,
            user_idle_timeout=self._config.timeouts.user_idle_seconds,
            current_phase=lambda: self.tracker.state.current_phase,
            events=self.record,
            after_input=self._handle.after_input,
            before_output=self._handle.before_output,
        )

    def _build_resumed_answer(self, context: LLMContext) -> ResumedAnswer | None:
        turn_taking = self._config.turn_taking
        if not turn_taking.allow_interruptions or not turn_taking.resume_window_secs:
            return None  # the reply cannot be stopped, so the answer cannot go on as one
        resumed = ResumedAnswer(context=context, window_secs=turn_taking.resume_window_secs, events=self.record)

        @resumed.event_handler("on_answer_resumed")
        async def on_answer_resumed(_processor: Any, _frame: Any) -> None:
            self._lines.answer_resumed()

        return resumed

    def _build_filler(self) -> FillerSpeech | None:
        if not self._settings.filler_after_ms:
            return None
        from services.local_models import LOCAL_MODELS
        from services.local_tts import piper_options, synthesize_pcm

        settings = self._settings

        def synthesize(text: str, sample_rate: int) -> bytes:
            return synthesize_pcm(LOCAL_MODELS.piper(piper_options(settings)), text, sample_rate)

        def on_filler(reason: str, waited_ms: float) -> None:
            self.record.event("filler", reason=reason, waited_ms=waited_ms)
            self.processors.latency.tracker.incident("filler", reason=reason, waited_ms=waited_ms)

        return FillerSpeech(synthesize, after_secs=settings.filler_after_ms / 1000, on_filler=on_filler)

    def _wire_failover(self) -> None:
        """Failover events -> events.jsonl + latency.json (+ filler); the latency breaker -> the slow stage."""
        switchers = self.services.switchers

        async def on_event(event: str, data: dict[str, Any]) -> None:
            self.record.event(event, **data)
            self.processors.latency.tracker.incident(event, **data)
            if event == "failover" and data.get("during_turn") and self.processors.filler is not None:
                await self.processors.filler.failover_started(data["stage"])

        for switcher in switchers.values():
            switcher.set_listener(on_event)

        def on_breaker(_old: BreakerState, new: BreakerState, reason: str) -> None:
            if new is not BreakerState.OPEN:
                return
            stage = LATENCY_STAGES.get(self.processors.latency.tracker.worst_window_stage() or "")
            if stage in switchers:
                switchers[stage].degrade(f"latency breaker open: {reason}")

        self.processors.latency.breaker.subscribe(on_breaker)

    def _keypad_transcript(self, key: str, request: str) -> None:
        self._lines.flush()
        self.record.transcript("candidate", request, phase=self.tracker.state.current_phase, keypad=key)

    def _write_config(self, candidate_name: str | None) -> None:
        self.record.write_config(
            {
                "session_id": self.session_id,
                "persona": self._persona,
                "transport": self._handle.kind,
                "candidate_name": candidate_name,
                "providers": self.services.providers,
                "failover": self.services.failover,
                "interview": self._config.model_dump(mode="json"),
            }
        )

    def _hook_events(self) -> None:
        parts, record = self.parts, self.record

        @parts.user_aggregator.event_handler("on_user_turn_stopped")
        async def on_user_turn_stopped(_aggregator: Any, _strategy: Any, message: Any) -> None:
            self._idle_nudges = 0
            if message.content:
                self._lines.candidate(message.content, phase=self.tracker.state.current_phase)

        @parts.user_aggregator.event_handler("on_user_turn_idle")
        async def on_user_turn_idle(_aggregator: Any) -> None:
            await self._nudge_silent_candidate()

        @parts.assistant_aggregator.event_handler("on_assistant_turn_stopped")
        async def on_assistant_turn_stopped(_aggregator: Any, message: Any) -> None:
            if message.content:
                self._lines.interviewer(
                    message.content, phase=self.tracker.state.current_phase, interrupted=message.interrupted
                )

        @parts.recorder.event_handler("on_audio_data")
        async def on_audio_data(_buffer: Any, audio: bytes, sample_rate: int, num_channels: int) -> None:
            await record.append_audio(audio, sample_rate, num_channels)

        @self.worker.event_handler("on_pipeline_error")
        async def on_pipeline_error(_worker: Any, frame: Any) -> None:
            record.event(
                "error", message=str(getattr(frame, "error", frame)), fatal=bool(getattr(frame, "fatal", False))
            )

        @self.worker.event_handler("on_idle_timeout")
        async def on_idle_timeout(_worker: Any) -> None:
            self._idle_timed_out = True
            record.event("idle_timeout", seconds=self._config.timeouts.idle_cancel_seconds)

        async def on_joined() -> None:
            record.event("candidate_joined")
            print(f"{JOINED_LINE}: session {self.session_id}", flush=True)  # the launcher's watchdog counts from here
            await parts.recorder.start_recording()
            await self.tracker.begin()
            # The candidate page shows which interview this is and, at the end, where its record is.
            about = session_message(self._config, self.session_id, str(self.record.directory.resolve()))
            intro = [RTVIServerMessageFrame(data=about)] if self._handle.rtvi else []
            await self.worker.queue_frames([*intro, LLMRunFrame()])

        async def on_left() -> None:
            record.event("candidate_left")
            if self.tracker.ending:
                return  # we hung up after the goodbye; the socket closing is expected
            self._left_early = True
            await self.worker.cancel(reason="candidate left")

        self._handle.on_candidate_joined(on_joined)
        self._handle.on_candidate_left(on_left)

    async def _nudge_silent_candidate(self) -> None:
        """Check in after `user_idle_seconds` of silence; after a few tries, end politely."""
        if self.tracker.ending:
            return
        self._idle_nudges += 1
        self.record.event("candidate_silent", nudge=self._idle_nudges, seconds=self._config.timeouts.user_idle_seconds)
        if self._idle_nudges > MAX_IDLE_NUDGES:
            await self.tracker.end_session(
                "candidate silent", goodbye=SILENT_CANDIDATE_GOODBYE, end_reason="candidate_silent"
            )
            return
        nudge: LLMContextMessage = {"role": "system", "content": IDLE_NUDGE_INSTRUCTION}
        await self.worker.queue_frames([LLMMessagesAppendFrame([nudge], run_llm=True)])
