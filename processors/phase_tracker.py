"""The interview's clock and its tools: phases, time warnings, wrap-up, hard stop.

Pipecat knows turns, not interviews. This processor owns the session's
`InterviewState` and the tool handlers the LLM calls (`transition_section`,
`score_answer`, `flag_followup`, `query_knowledge`, `check_time_remaining`,
`end_interview`), and runs the phase clock: it injects the phase's instructions
when a phase starts, a time warning at 80 % of a phase, the rubric again at 50 %
of the interview, a wrap-up instruction when time is up, and at the session
timeout it says goodbye and ends the session (the goodbye is heard first).

It also tells the candidate's client where the clock is: an RTVI server message
(`interview.progress.progress_message`: phase, time left) within a tick of the
start and of every phase change, every `progress_every_secs`, and at the end.
Pipecat's RTVI observer delivers it to clients that speak RTVI (the candidate
page); transports without a client channel drop it.

Injections are added to the shared context without running the LLM, so they
shape the next response and never start a second, overlapping one. Sits between
the user aggregator and the LLM; every frame passes through untouched.

Why not ``pipecat.flows`` (checked against its 1.14 source, ``flows/manager.py``): a phase
would map onto a ``NodeConfig`` (its prompt suffix as ``task_messages``, ``transition_section``
as the function that returns the next node, the other tools as ``global_functions``), and that
part would shrink. But a FlowManager moves only when the LLM calls a function; everything this
class is mostly about is time, which it lacks: the phase clock, the 80 % time warning, the
rubric reminder at half time, the wrap-up when a phase's or the interview's time is up, and the
session timeout with a goodbye the candidate hears before the call ends. That clock would stay
and call ``set_node_from_config`` from outside, so moving adds a second state machine instead of
replacing one. Two more frictions: a node's ``role_message`` reaches the LLM as an
``LLMUpdateSettingsFrame`` system instruction, which the embedded structured interviewer (it reads
its prompt from the context) would have to learn; and Flows keeps no record of its own (our
``state.json``, the ``phase_changed`` events and the candidate page's progress messages would be
written from its callbacks anyway). Revisit when interviews branch (a route that depends on the
candidate's answers), which is what a flow graph is for.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from loguru import logger
from pipecat.adapters.llm.schemas.function_schema import FunctionSchema
from pipecat.adapters.llm.schemas.tools_schema import ToolsSchema
from pipecat.frames.frames import (
    CancelFrame,
    EndFrame,
    EndWorkerFrame,
    Frame,
    FunctionCallResultProperties,
    StartFrame,
    TTSSpeakFrame,
)
from pipecat.processors.aggregators.llm_context import LLMContext
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor
from pipecat.processors.frameworks.rtvi.frames import RTVIServerMessageFrame
from pipecat.services.llm_service import FunctionCallParams

from interview import pacing
from interview.config import InterviewConfig
from interview.end_reason import EndReason
from interview.events import EventSink
from interview.progress import progress_message
from interview.state import InterviewState
from interview.tools import InterviewToolHandlers, build_tool_definitions

STATE_FILE = "state.json"
PROGRESS_EVERY_SECS = 5.0


class PhaseTracker(FrameProcessor):
    def __init__(
        self,
        config: InterviewConfig,
        context: LLMContext,
        *,
        events: EventSink,
        clock: Callable[[], float] = time.monotonic,
        resume_from: InterviewState | None = None,
        tick_secs: float = 1.0,
        progress_every_secs: float = PROGRESS_EVERY_SECS,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self._config = config
        self._context = context
        self._events = events
        self._clock = clock
        self._tick_secs = tick_secs
        self._resumed = resume_from is not None
        self.state = resume_from or InterviewState.start(config, clock())
        self._handlers = InterviewToolHandlers(config, self.state, clock=clock)
        self._begun = False
        self._warned_phases: set[str] = set()
        self._rubric_reminded = False
        self._wrapped_up = False
        self._ending = False
        self.end_reason: EndReason = "cancelled"
        self._tick_task: asyncio.Task | None = None
        self._progress_every_secs = progress_every_secs
        self._progress_due = False
        self._last_progress_at: float | None = None

    # --- tools ------------------------------------------------------------------------

    def tools_schema(self) -> ToolsSchema:
        """The interview tools, each wired to this tracker (Pipecat registers them from the schema)."""
        return ToolsSchema(
            standard_tools=[
                FunctionSchema(
                    name=d.name,
                    description=d.description,
                    properties=d.properties,
                    required=list(d.required),
                    handler=self.handle_tool,
                )
                for d in build_tool_definitions(self._config)
            ]
        )

    async def handle_tool(self, params: FunctionCallParams) -> None:
        arguments = dict(params.arguments or {})
        previous_phase = self.state.current_phase
        result = self._handlers.handle(params.function_name, arguments)
        text = result.text if result.ok or result.text.lower().startswith("error") else f"Error: {result.text}"
        self._events.event("tool_call", name=params.function_name, arguments=arguments, ok=result.ok, result=text)
        if result.event:
            event = dict(result.event)
            self._events.event(event.pop("type", params.function_name), **event)
        if not result.ok:
            logger.info(f"{self}: rejected {params.function_name}({arguments}): {text}")
        self._save_state()
        if self.state.current_phase != previous_phase:
            self._inject(pacing.phase_entered(self._config.phase(self.state.current_phase)))
            self._progress_due = True
        await params.result_callback(text, properties=FunctionCallResultProperties(run_llm=not result.end_session))
        if result.end_session:
            await self.end_session(arguments.get("reason", "interview complete"))

    # --- the clock --------------------------------------------------------------------

    async def begin(self) -> None:
        """The candidate is here: start the interview clock (or pick up a resumed one)."""
        if self._begun:
            return
        self._begun = True
        if self._resumed:
            self._inject(pacing.resume_note(self._config, self.state))
            self._events.event("session_resumed", phase=self.state.current_phase)
        else:
            self.state = InterviewState.start(self._config, self._clock())
            self._handlers = InterviewToolHandlers(self._config, self.state, clock=self._clock)
            self._inject(pacing.phase_entered(self._config.phase(self.state.current_phase)))
        self._progress_due = True
        self._save_state()

    async def check_time(self) -> None:
        """Act on the clock; called every `tick_secs` (tests call it with a fake clock)."""
        if not self._begun or self._ending:
            return
        now = self._clock()
        elapsed = self.state.elapsed(now)
        if elapsed >= self._config.timeouts.session_timeout_seconds:
            self._events.event("session_timeout", elapsed_seconds=round(elapsed, 1))
            await self.end_session("session timeout", end_reason="session_timeout")
            return
        duration = self._config.duration_minutes * 60
        if not self._wrapped_up and elapsed >= duration:
            self._wrapped_up = True
            self._inject(pacing.wrap_up(self._config))
            self._events.event("wrap_up", elapsed_seconds=round(elapsed, 1))
        if not self._rubric_reminded and elapsed >= duration * self._config.pacing.rubric_reminder_fraction:
            self._rubric_reminded = True
            self._inject(pacing.rubric_reminder(self._config))
            self._events.event("rubric_reminder", elapsed_seconds=round(elapsed, 1))
        phase = self._config.phase(self.state.current_phase)
        in_phase = self.state.time_in_phase(now)
        if (
            phase.id not in self._warned_phases
            and in_phase >= phase.duration_seconds * self._config.pacing.phase_warning_fraction
        ):
            self._warned_phases.add(phase.id)
            self._inject(pacing.phase_time_warning(phase, phase.duration_seconds - in_phase))
            self._events.event("phase_time_warning", phase=phase.id, seconds_in_phase=round(in_phase, 1))
        if (
            self._progress_due
            or self._last_progress_at is None
            or now - self._last_progress_at >= self._progress_every_secs
        ):
            await self._send_progress(now)

    async def end_session(
        self, reason: str, *, goodbye: str | None = None, end_reason: EndReason = "completed"
    ) -> None:
        """Say the closing words, then end: the EndFrame follows them, so they are heard."""
        if self._ending:
            return
        self._ending = True
        self.end_reason = end_reason
        if not self.state.ended:
            self.state.end(reason, self._clock())
        self._save_state()
        self._events.event("end_requested", reason=reason)
        await self._send_progress(self._clock())
        await self.push_frame(TTSSpeakFrame(goodbye or self._config.closing_message))
        await self.push_frame(EndWorkerFrame(reason=reason), FrameDirection.UPSTREAM)

    @property
    def ending(self) -> bool:
        return self._ending

    def snapshot(self) -> dict[str, Any]:
        return self.state.snapshot()

    def now(self) -> float:
        """The tracker's clock (the times in its state are on it)."""
        return self._clock()

    @property
    def begun(self) -> bool:
        """The candidate joined and the interview clock started."""
        return self._begun

    # --- frames -----------------------------------------------------------------------

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if isinstance(frame, StartFrame):
            self._tick_task = self.create_task(self._tick())
        elif isinstance(frame, (EndFrame, CancelFrame)) and self._tick_task is not None:
            await self.cancel_task(self._tick_task)
            self._tick_task = None
        await self.push_frame(frame, direction)

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(self._tick_secs)
            await self.check_time()

    async def _send_progress(self, now: float) -> None:
        self._progress_due = False
        self._last_progress_at = now
        message = progress_message(self._config, self.state, now, outcome=self.end_reason if self._ending else None)
        await self.push_frame(RTVIServerMessageFrame(data=message))

    def _inject(self, text: str) -> None:
        self._context.add_message({"role": "system", "content": text})

    def _save_state(self) -> None:
        self._events.write_json(STATE_FILE, self.state.snapshot())
