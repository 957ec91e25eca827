"""A long interview context is summarised by the cloud LLM (Pipecat's summarizer), against the OpenAI emulator."""

from __future__ import annotations

from typing import Any

from pipecat.frames.frames import LLMFullResponseEndFrame, LLMFullResponseStartFrame
from pipecat.processors.aggregators.llm_context import LLMContext
from pipecat.processors.aggregators.llm_response_universal import LLMAssistantAggregator, LLMContextAggregatorPair
from pipecat.tests.utils import SleepFrame, run_test

from emulators.openai import FakeOpenAIServer
from interview.prompts import CONTEXT_SUMMARY_PROMPT
from pipelines.turn_taking import context_summarization
from services.cloud import create_openai_llm
from settings import Settings

SUMMARY = "The candidate described eight years of payment systems and the ledger's retry logic."


def long_interview(turns: int) -> LLMContext:
    messages: list[Any] = [{"role": "system", "content": "You are the interviewer."}]
    for n in range(turns):
        messages.append({"role": "assistant", "content": f"Question {n}: tell me about system {n} you built."})
        messages.append({"role": "user", "content": f"Answer {n}: " + "we built it in Python with a queue. " * 8})
    return LLMContext(messages=messages)


def assistant(context: LLMContext, server: FakeOpenAIServer | None, max_tokens: int) -> LLMAssistantAggregator:
    llm = None
    if server is not None:
        llm = create_openai_llm(Settings(_env_file=None, openai_base_url=server.base_url))  # type: ignore[call-arg]
    return LLMContextAggregatorPair(context, assistant_params=context_summarization(llm, max_tokens)).assistant()


async def reply_starts(processor: LLMAssistantAggregator) -> None:
    """A reply begins (the summarizer checks the context then), and a moment for the summary to land."""
    await run_test(processor, frames_to_send=[LLMFullResponseStartFrame(), SleepFrame(1.5), LLMFullResponseEndFrame()])


async def test_past_the_limit_the_oldest_turns_become_one_summary_and_the_last_six_stay() -> None:
    context = long_interview(20)
    last_six = context.messages[-6:]
    async with FakeOpenAIServer(responses=[SUMMARY]) as server:
        await reply_starts(assistant(context, server, max_tokens=1000))
    (request,) = server.requests
    assert request["stream"] is False and CONTEXT_SUMMARY_PROMPT in str(request["messages"])
    assert "Answer 0" in str(request["messages"])  # the oldest turns are what it summarised
    messages = context.messages
    assert messages[0]["content"] == "You are the interviewer."  # the system prompt stays
    assert SUMMARY in messages[1]["content"] and "Earlier in this interview" in messages[1]["content"]
    assert messages[2:] == last_six


async def test_under_the_limit_or_without_a_cloud_llm_nothing_changes() -> None:
    async with FakeOpenAIServer(responses=[SUMMARY]) as server:
        short = long_interview(2)
        before = list(short.messages)
        await reply_starts(assistant(short, server, max_tokens=1000))
        assert short.messages == before and server.requests == []
        off = long_interview(20)
        before = list(off.messages)
        await reply_starts(assistant(off, server, max_tokens=0))
        assert off.messages == before and server.requests == []
    local = long_interview(20)
    before = list(local.messages)
    await reply_starts(assistant(local, None, max_tokens=1000))  # the structured interviewer cannot summarise
    assert local.messages == before


async def test_a_failing_summary_leaves_the_context_as_it_was() -> None:
    context = long_interview(20)
    before = list(context.messages)
    async with FakeOpenAIServer() as server:
        server.faults.inject(*["http_error:500"] * 5)  # the SDK retries twice itself
        await reply_starts(assistant(context, server, max_tokens=1000))
    assert context.messages == before
