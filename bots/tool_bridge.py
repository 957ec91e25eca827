"""Connects the interview's tools (plain data in interview/tools.py) to a Pipecat LLM.

Pipecat 1.14 registers a handler given on a `FunctionSchema` automatically when
the context advertises it, so the same schema drives OpenAI and the local
interviewer. What the library lacks is the interview side: recording every call
in the session's events and ending the session once the goodbye has been said.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from loguru import logger
from pipecat.adapters.llm.schemas.function_schema import FunctionSchema
from pipecat.adapters.llm.schemas.tools_schema import ToolsSchema
from pipecat.frames.frames import FunctionCallResultProperties
from pipecat.services.llm_service import FunctionCallParams

from bots.session_record import SessionRecord
from interview.tools import InterviewToolHandlers, ToolDefinition

EndSession = Callable[[str], Awaitable[None]]


class InterviewToolBridge:
    """Runs interview tool handlers for the LLM and records what they did."""

    def __init__(self, handlers: InterviewToolHandlers, record: SessionRecord, end_session: EndSession):
        self._handlers = handlers
        self._record = record
        self._end_session = end_session

    def tools_schema(self, definitions: list[ToolDefinition]) -> ToolsSchema:
        return ToolsSchema(
            standard_tools=[
                FunctionSchema(
                    name=d.name,
                    description=d.description,
                    properties=d.properties,
                    required=list(d.required),
                    handler=self.handle,
                )
                for d in definitions
            ]
        )

    async def handle(self, params: FunctionCallParams) -> None:
        arguments = dict(params.arguments or {})
        result = self._handlers.handle(params.function_name, arguments)
        text = result.text if result.ok or result.text.lower().startswith("error") else f"Error: {result.text}"
        self._record.event("tool_call", name=params.function_name, arguments=arguments, ok=result.ok, result=text)
        if result.event:
            event = dict(result.event)
            self._record.event(event.pop("type", params.function_name), **event)
        if not result.ok:
            logger.info(f"session {self._record.session_id}: rejected {params.function_name}({arguments}): {text}")
        await params.result_callback(text, properties=FunctionCallResultProperties(run_llm=not result.end_session))
        if result.end_session:
            await self._end_session(arguments.get("reason", "interview complete"))
