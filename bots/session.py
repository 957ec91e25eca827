"""One interview session's lifecycle: services and record, the pipeline run to its end, why it ended.

The pipeline and every processor in it are built in pipelines/interview.py, the same way
for both personas and every transport; this module opens the record, runs the worker,
starts the interview when the candidate arrives, nudges a silent one, ends on the budget,
and closes the record with the reports whatever way the session ended.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loguru import logger
from pipecat.frames.frames import LLMMessagesAppendFrame, LLMRunFrame
from pipecat.pipeline.worker import PipelineParams
from pipecat.processors.aggregators.llm_context import LLMContextMessage
from pipecat.processors.frameworks.rtvi.frames import RTVIServerMessageFrame
from pipecat.workers.runner import WorkerRunner

from bots.budget import BudgetGuard, SpendMeter, UsageObserver, charged_stages, prices_from
from bots.session_record import SessionRecord, read_resumable_record
from bots.session_timing import EVALUATION_TIMEOUT_SECS, JOINED_LINE
from interview.config import InterviewConfig, Persona
from interview.end_reason import EndReason
from interview.progress import session_message
from interview.session_snapshot import SNAPSHOT_FILE, SessionSnapshot, json_messages
from pipelines.interview import InterviewPipeline, PipelineInputs, build_interview_pipeline
from pipelines.lean_worker import LeanPipelineWorker
from processors.phase_tracker import PhaseTracker
from report import write_report
from services.factory import SessionServices, create_session_services
from services.scorers import create_scorer
from settings import Settings
from transports.common import TransportHandle

MAX_IDLE_NUDGES = 2
END_MESSAGE_GRACE_SECS = 0.5
END_INTERVIEW_MESSAGE = "end-interview"  # the candidate page's End (an RTVI client message), sent before it closes
IDLE_NUDGE_INSTRUCTION = (
    "The candidate has been silent for a while. Briefly and kindly check in: offer to repeat "
    "or rephrase the last question. Do not move on."
)
SILENT_CANDIDATE_GOODBYE = (
    "It seems we may have lost you, so I'll end the interview here. We'll be in touch about next steps. Goodbye."
)
BUDGET_GOODBYE = (
    "We have reached the time we can spend on this session today, so I'll stop here. "
    "Thank you very much; we'll be in touch about next steps. Goodbye."
)


@dataclass(frozen=True)
class SessionOutcome:
    session_id: str
    directory: Path
    end_reason: EndReason
    suspended: bool = False  # the candidate dropped out; the record waits for them to come back


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
        resume: SessionSnapshot | None = None,
        record: SessionRecord | None = None,
    ):
        """`instructions`: extra system guidance from the session contract (a room's metadata).

        `resume` and `record`: go on with a suspended session (see `InterviewSession.resume`)."""
        self._config = config
        self._resume = resume
        self.suspend_on_drop = False  # set by a server that can take the candidate back (reconnect)
        self.resume_token: str | None = None  # what the candidate's page comes back with (sent on join)
        self._suspended = False
        self._ended_by_candidate = False  # the page's End said so before the socket closed
        self._snapshot_lock = asyncio.Lock()
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
        self.record = record or SessionRecord.create(settings.sessions_dir, session_id)
        try:
            if resume is None:
                self._write_config(candidate_name)
            self.spend = SpendMeter(prices_from(settings), charged=charged_stages(self.services.providers))
            self.parts: InterviewPipeline = build_interview_pipeline(
                PipelineInputs(
                    config=config,
                    settings=settings,
                    services=self.services,
                    handle=handle,
                    record=self.record,
                    scorer=self._scorer,
                    session_id=self.record.session_id,
                    persona=persona,
                    candidate_name=candidate_name,
                    instructions=instructions,
                    resume=resume,
                )
            )
            if resume is not None:
                self.parts.latency.tracker.continue_from(resume.latency_turns)
            if instructions and resume is None:
                self.record.event("session_instructions", text=instructions)
            self.worker = LeanPipelineWorker(
                self.parts.pipeline,
                params=PipelineParams(
                    audio_in_sample_rate=handle.input_sample_rate,
                    audio_out_sample_rate=handle.output_sample_rate,
                    enable_metrics=True,
                    enable_usage_metrics=True,
                ),
                idle_timeout_secs=config.timeouts.idle_cancel_seconds,
                conversation_id=self.record.session_id,
                observers=[*self.parts.latency.observers(), self._spend_observer()],
                enable_rtvi=handle.rtvi,
            )
            self._hook_events()
        except BaseException as exc:  # opened but never run: still closed, saying why
            self.record.event("error", message=f"session setup failed: {type(exc).__name__}: {exc}")
            self.record.event("session_ended", reason="error", duration_s=self.record.elapsed())
            self.record.close()
            raise

    @classmethod
    def resume(cls, settings: Settings, directory: Path, handle: TransportHandle) -> InterviewSession:
        """Rebuild a suspended session from its record folder alone; SnapshotError says why it cannot be."""
        config_data, snapshot = read_resumable_record(directory)
        config = InterviewConfig.model_validate(config_data["interview"])
        away = max(0.0, time.time() - snapshot.saved_at_wall)
        record = SessionRecord.reopen(directory, elapsed_s=snapshot.record_elapsed_s + away)
        record.event("candidate_reconnected", away_s=round(away, 1))
        return cls(
            settings,
            config,
            handle,
            persona=config_data.get("persona") or "interviewer",
            candidate_name=config_data.get("candidate_name"),
            resume=snapshot,
            record=record,
        )

    @property
    def session_id(self) -> str:
        return self.record.session_id

    @property
    def suspended(self) -> bool:
        """The candidate dropped out unintended: the record waits for them (snapshot kept, no reports yet)."""
        return self._suspended

    @property
    def tracker(self) -> PhaseTracker:
        """The phase tracker: where the interview is, and how it ends."""
        return self.parts.phase_tracker

    # --- what a runner may do to a running session -------------------------------------------

    @property
    def ending(self) -> bool:
        """Already saying goodbye (a second end would cut the last words)."""
        return self.tracker.ending

    async def end(self, why: str, *, goodbye: str, end_reason: EndReason) -> None:
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
        return SessionOutcome(self.session_id, self.record.directory, self.end_reason, suspended=self._suspended)

    async def _close_record(self) -> None:
        """Reports, then session_ended and close(): the last two even if the reports raise or are cancelled."""
        if self._suspended:
            await self._save_snapshot()
            self.record.event("session_suspended", reason="candidate dropped", duration_s=self.record.elapsed())
            self.record.close()
            logger.info(f"session {self.session_id} suspended: the candidate may come back")
            return
        try:
            await self._finish_reports()
        except Exception as exc:
            self.record.event("error", message=f"session reports failed: {type(exc).__name__}: {exc}")
            logger.exception(f"session {self.session_id}: reports failed")
        finally:
            reason = self.end_reason
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
        try:
            self.parts.latency.finalize()
        except Exception as exc:
            self.record.event("error", message=f"latency report failed: {type(exc).__name__}: {exc}")
        logger.info(f"session {self.session_id}: scoring the interview ({self._scorer.name})...")
        evaluation = await self.parts.evaluator.finalize(timeout=self.evaluation_timeout)
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
    def end_reason(self) -> EndReason:
        if self._failed:
            return "error"
        if self.tracker.ending:
            return self.tracker.end_reason
        if self._idle_timed_out:
            return "idle_timeout"
        return "candidate_left" if self._left_early else "cancelled"

    # --- assembly ---------------------------------------------------------------------

    def _spend_observer(self) -> UsageObserver:
        """The session's one meter: priced usage for the report, and the budget's end when it has a limit."""
        limit = self._config.budget.limit_usd
        if limit is None:
            return UsageObserver(self.spend)

        async def exhausted(spent: float) -> None:
            self.record.event(
                "budget_exhausted", spent_usd=round(spent, 4), limit_usd=limit, by_stage=self.spend.by_stage
            )
            await self.end("budget exhausted", goodbye=BUDGET_GOODBYE, end_reason="budget_exhausted")

        return BudgetGuard(self.spend, limit, exhausted)

    async def _save_snapshot(self) -> None:
        """snapshot.json after every turn (atomic, fsynced, off the event loop): the session can be rebuilt."""
        parts = self.parts
        evaluator, held = parts.evaluator.snapshot()
        snapshot = SessionSnapshot(
            session_id=self.session_id,
            interview_id=self._config.id,
            state=self.tracker.snapshot(),
            state_clock_s=self.tracker.now(),
            messages=json_messages(parts.context.get_messages()),
            evaluator=evaluator,
            held_line=held,
            record_elapsed_s=self.record.elapsed(),
            saved_at_wall=time.time(),
            latency_turns=parts.latency.tracker.turns,
            begun=self.tracker.begun,
        )
        async with self._snapshot_lock:  # in order: an older snapshot never lands over a newer one
            try:
                await asyncio.to_thread(self.record.write_json, SNAPSHOT_FILE, snapshot.to_json())
            except OSError as exc:
                self.record.event("error", message=f"snapshot.json could not be written: {exc}")

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
        async def on_user_turn_stopped(_aggregator: Any, _strategy: Any, _message: Any) -> None:
            self._idle_nudges = 0
            await self._save_snapshot()

        @parts.assistant_aggregator.event_handler("on_assistant_turn_stopped")
        async def on_assistant_turn_stopped(_aggregator: Any, _message: Any) -> None:
            await self._save_snapshot()

        @parts.user_aggregator.event_handler("on_user_turn_idle")
        async def on_user_turn_idle(_aggregator: Any) -> None:
            await self._nudge_silent_candidate()

        if self._handle.rtvi:

            @self.worker.rtvi.event_handler("on_client_message")
            async def on_client_message(_rtvi: Any, message: Any) -> None:
                if getattr(message, "type", None) == END_INTERVIEW_MESSAGE:
                    self._ended_by_candidate = True
                    record.event("candidate_ended")

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
            about = session_message(
                self._config,
                self.session_id,
                str(self.record.directory),
                resume_token=self.resume_token,
                reconnect_grace_seconds=self._settings.reconnect_grace_seconds if self.resume_token else None,
            )
            intro = [RTVIServerMessageFrame(data=about)] if self._handle.rtvi else []
            await self.worker.queue_frames([*intro, LLMRunFrame()])

        async def on_left() -> None:
            record.event("candidate_left")
            if self.tracker.ending:
                return  # we hung up after the goodbye; the socket closing is expected
            self._left_early = True
            on_purpose = self._ended_by_candidate or self._handle.left_on_purpose()
            if not on_purpose and self.suspend_on_drop:
                # The page's End message may still be on its way through the RTVI processor (it was sent
                # just before the close): give it a moment before taking this for a drop.
                await asyncio.sleep(END_MESSAGE_GRACE_SECS)
                on_purpose = self._ended_by_candidate
            self._suspended = self.suspend_on_drop and self.tracker.begun and not on_purpose
            logger.info(f"session {self.session_id}: candidate left ({'on purpose' if on_purpose else 'dropped'})")
            await self.worker.cancel(reason="candidate dropped" if self._suspended else "candidate left")

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
