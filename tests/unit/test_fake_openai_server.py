"""The fake OpenAI server speaks the real protocol: checked with the openai SDK and Pipecat's OpenAILLMService."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import openai
import pytest
from pipecat.adapters.llm.schemas.function_schema import FunctionSchema
from pipecat.adapters.llm.schemas.tools_schema import ToolsSchema
from pipecat.frames.frames import (
    ErrorFrame,
    FunctionCallResultFrame,
    LLMContextFrame,
    LLMFullResponseEndFrame,
    LLMFullResponseStartFrame,
    LLMTextFrame,
)
from pipecat.pipeline.pipeline import Pipeline
from pipecat.processors.aggregators.llm_context import LLMContext
from pipecat.processors.aggregators.llm_response_universal import LLMContextAggregatorPair
from pipecat.services.llm_service import FunctionCallParams
from pipecat.services.openai.llm import OpenAILLMService
from pipecat.tests.utils import SleepFrame, run_test
from pipecat.utils.errors import ErrorCategory

from emulators.openai import FakeOpenAIServer, FakeResponse, ToolCall, validate_chat_request

KEY = "sk-test-key-1234"
USER = [{"role": "user", "content": "Hello"}]


def client(server: FakeOpenAIServer, key: str = KEY) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(api_key=key, base_url=server.base_url, max_retries=0)


# -- the openai SDK --------------------------------------------------------------------------


async def test_streaming_text_arrives_in_several_chunks_with_usage() -> None:
    text = "Could you tell me about the backend systems you have worked on?"
    async with FakeOpenAIServer(responses=[text], api_key=KEY) as server:
        async with client(server) as c:
            stream = await c.chat.completions.create(
                model="gpt-4.1", messages=USER, stream=True, stream_options={"include_usage": True}
            )
            chunks = [chunk async for chunk in stream]
        pieces, finish, usage = [], None, None
        for chunk in chunks:
            if chunk.usage:
                usage = chunk.usage
            if chunk.choices:
                pieces.append(chunk.choices[0].delta.content or "")
                finish = chunk.choices[0].finish_reason or finish
    assert "".join(pieces) == text
    assert len([p for p in pieces if p]) > 5
    assert finish == "stop"
    assert usage is not None and usage.completion_tokens > 0 and usage.total_tokens > usage.prompt_tokens
    assert server.requests[0]["messages"] == USER and server.requests[0]["stream"] is True


async def test_streaming_tool_call_is_assembled_from_pieces() -> None:
    args = {"phase": "system_design", "reason": "the introduction is complete"}
    async with FakeOpenAIServer(responses=[FakeResponse(tool_calls=[("advance_phase", args)])]) as server:
        async with client(server) as c:
            stream = await c.chat.completions.create(model="gpt-4.1", messages=USER, stream=True)
            chunks = [chunk async for chunk in stream]
        calls: dict[int, dict] = {}
        finish = None
        n_arg_chunks = 0
        for chunk in chunks:
            choice = chunk.choices[0]
            finish = choice.finish_reason or finish
            for tc in choice.delta.tool_calls or []:
                entry = calls.setdefault(tc.index, {"id": None, "name": "", "arguments": ""})
                entry["id"] = tc.id or entry["id"]
                if tc.function and tc.function.name:
                    entry["name"] += tc.function.name
                if tc.function and tc.function.arguments:
                    entry["arguments"] += tc.function.arguments
                    n_arg_chunks += 1
    assert finish == "tool_calls"
    assert list(calls) == [0]
    assert calls[0]["name"] == "advance_phase" and calls[0]["id"].startswith("call_")
    assert json.loads(calls[0]["arguments"]) == args
    assert n_arg_chunks > 1


async def test_non_streaming_text_and_tool_calls() -> None:
    reply = FakeResponse(
        text="Scoring now.", tool_calls=[ToolCall("record_score", {"area": "communication", "score": 7})]
    )
    async with FakeOpenAIServer(responses=[reply, "Plain."]) as server, client(server) as c:
        first = await c.chat.completions.create(model="gpt-4.1-mini", messages=USER)
        second = await c.chat.completions.create(model="gpt-4.1-mini", messages=USER)
        default = await c.chat.completions.create(model="gpt-4.1-mini", messages=USER)
    msg = first.choices[0].message
    assert msg.content == "Scoring now." and first.choices[0].finish_reason == "tool_calls"
    assert msg.tool_calls and msg.tool_calls[0].function.name == "record_score"
    assert json.loads(msg.tool_calls[0].function.arguments) == {"area": "communication", "score": 7}
    assert first.usage and first.usage.prompt_tokens == 1 and first.model == "gpt-4.1-mini"
    assert second.choices[0].message.content == "Plain." and second.choices[0].message.tool_calls is None
    assert default.choices[0].message.content == server.default_text
    assert server.remaining == 0 and len(server.requests) == 3


async def test_responder_sees_the_request_and_may_defer_to_the_script() -> None:
    def responder(body: dict) -> str | None:
        last = body["messages"][-1]["content"]
        return f"You said: {last}" if last.startswith("echo") else None

    async with FakeOpenAIServer(responses=["scripted"], responder=responder) as server, client(server) as c:
        a = await c.chat.completions.create(model="m", messages=[{"role": "user", "content": "echo this"}])
        b = await c.chat.completions.create(model="m", messages=USER)
    assert a.choices[0].message.content == "You said: echo this"
    assert b.choices[0].message.content == "scripted"


async def test_wrong_key_is_an_authentication_error() -> None:
    async with FakeOpenAIServer(api_key=KEY) as server:
        async with client(server, key="sk-wrong-key-9999") as bad:
            with pytest.raises(openai.AuthenticationError) as info:
                await bad.chat.completions.create(model="gpt-4.1", messages=USER)
            with pytest.raises(openai.AuthenticationError):
                await bad.models.list()
        assert info.value.status_code == 401
        assert info.value.code == "invalid_api_key"
        assert "9999" in info.value.message and "wrong" not in info.value.message  # key is masked
        async with client(server) as good:
            models = await good.models.list()
        assert "gpt-4.1" in [m.id for m in models.data]


async def test_malformed_requests_are_bad_requests() -> None:
    async with FakeOpenAIServer() as server, client(server) as c:
        with pytest.raises(openai.BadRequestError, match="model"):
            await c.chat.completions.create(model="", messages=USER)
        with pytest.raises(openai.BadRequestError, match="Supported values"):
            await c.chat.completions.create(model="gpt-4.1", messages=[{"role": "robot", "content": "hi"}])
        with pytest.raises(openai.BadRequestError, match="tool_call_id"):
            await c.chat.completions.create(model="gpt-4.1", messages=[*USER, {"role": "tool", "content": "42"}])
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{server.base_url}/chat/completions", json={"model": "gpt-4.1"}) as resp:
                assert resp.status == 400
                error = (await resp.json())["error"]
                assert error["param"] == "messages" and error["code"] == "missing_required_parameter"
            async with http.post(f"{server.base_url}/chat/completions", data="{not json") as resp:
                assert resp.status == 400
            async with http.get(f"{server.base_url}/nope") as resp:
                assert resp.status == 404 and "Invalid URL" in (await resp.json())["error"]["message"]
    assert len(server.requests) == 5  # rejected requests are recorded too


def test_tool_message_ordering_rules() -> None:
    call = {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    ok = [*USER, {"role": "assistant", "content": None, "tool_calls": [call]},
          {"role": "tool", "tool_call_id": "call_1", "content": "done"}]  # fmt: skip
    assert validate_chat_request({"model": "m", "messages": ok}) is None
    orphan = [*USER, {"role": "tool", "tool_call_id": "call_9", "content": "x"}]
    assert "preceeding message with 'tool_calls'" in validate_chat_request({"model": "m", "messages": orphan})[0]
    unanswered = [*USER, {"role": "assistant", "tool_calls": [call]}, {"role": "user", "content": "hm"}]
    assert "did not have response messages: call_1" in validate_chat_request({"model": "m", "messages": unanswered})[0]
    empty_assistant = [*USER, {"role": "assistant", "content": None}]
    assert "expected a string, got null" in validate_chat_request({"model": "m", "messages": empty_assistant})[0]
    assert validate_chat_request({"model": "m", "messages": []})[3] == "empty_array"


async def test_scripted_http_error_and_pacing() -> None:
    responses = [FakeResponse(status=500, error_message="upstream exploded"), FakeResponse(text="late", delay=0.2)]
    async with FakeOpenAIServer(responses=responses) as server, client(server) as c:
        with pytest.raises(openai.InternalServerError, match="upstream exploded"):
            await c.chat.completions.create(model="gpt-4.1", messages=USER)
        start = asyncio.get_running_loop().time()
        reply = await c.chat.completions.create(model="gpt-4.1", messages=USER)
        assert asyncio.get_running_loop().time() - start >= 0.2
        assert reply.choices[0].message.content == "late"


async def test_client_hanging_up_mid_stream_does_not_break_the_server() -> None:
    """Pipecat closes the stream when the candidate interrupts; the next turn must still work."""
    long_reply = FakeResponse(text=" ".join(["word"] * 50), chunk_delay=0.02)
    async with FakeOpenAIServer(responses=[long_reply, "Next turn."]) as server, client(server) as c:
        stream = await c.chat.completions.create(model="gpt-4.1", messages=USER, stream=True)
        got = 0
        async for _chunk in stream:
            got += 1
            if got == 3:
                break
        await stream.close()
        reply = await c.chat.completions.create(model="gpt-4.1", messages=USER)
    assert reply.choices[0].message.content == "Next turn."


# -- Pipecat 1.14's OpenAILLMService -----------------------------------------------------------


def make_llm(server: FakeOpenAIServer) -> OpenAILLMService:
    return OpenAILLMService(
        api_key=KEY,
        base_url=server.base_url,
        settings=OpenAILLMService.Settings(model="gpt-4.1-mini", system_instruction="You are Alex, an interviewer."),
    )


ADVANCE = FunctionSchema(
    name="advance_phase",
    description="Move the interview to the next phase.",
    properties={"phase": {"type": "string", "description": "id of the next phase"}},
    required=["phase"],
)


async def test_pipecat_llm_streams_text_frames() -> None:
    reply = "Welcome! Could you tell me about yourself and your recent work?"
    async with FakeOpenAIServer(responses=[reply], api_key=KEY) as server:
        context = LLMContext(messages=[{"role": "user", "content": "Hi, I am ready."}], tools=ToolsSchema([ADVANCE]))
        down, _ = await run_test(make_llm(server), frames_to_send=[LLMContextFrame(context)])
    texts = [f.text for f in down if isinstance(f, LLMTextFrame)]
    assert len(texts) > 5 and "".join(texts) == reply
    types = [type(f) for f in down]
    start, end = types.index(LLMFullResponseStartFrame), types.index(LLMFullResponseEndFrame)
    assert start < types.index(LLMTextFrame) and end > len(types) - 1 - types[::-1].index(LLMTextFrame)
    request = server.requests[0]
    assert request["model"] == "gpt-4.1-mini" and request["stream"] is True
    assert request["stream_options"] == {"include_usage": True}
    assert request["messages"][0] == {"role": "system", "content": "You are Alex, an interviewer."}
    assert request["tools"][0]["function"]["name"] == "advance_phase"


async def test_pipecat_tool_call_reaches_the_registered_function_and_loops_back() -> None:
    """Tool call -> handler -> result in the context -> second request (validated) -> spoken text."""
    calls: list[FunctionCallParams] = []

    async def advance_phase(params: FunctionCallParams) -> None:
        calls.append(params)
        await params.result_callback({"ok": True, "phase": params.arguments["phase"]})

    responses = [
        FakeResponse(tool_calls=[("advance_phase", {"phase": "system_design"})]),
        "Great, let us move on to system design.",
    ]
    async with FakeOpenAIServer(responses=responses, api_key=KEY) as server:
        llm = make_llm(server)
        llm.register_function("advance_phase", advance_phase)
        context = LLMContext(
            messages=[{"role": "user", "content": "I am done introducing myself."}], tools=ToolsSchema([ADVANCE])
        )
        aggregators = LLMContextAggregatorPair(context)
        down, _ = await run_test(
            Pipeline([llm, aggregators.assistant()]), frames_to_send=[LLMContextFrame(context), SleepFrame(1.0)]
        )

    assert len(calls) == 1
    assert calls[0].function_name == "advance_phase" and dict(calls[0].arguments) == {"phase": "system_design"}
    assert calls[0].tool_call_id.startswith("call_")
    assert len(server.requests) == 2, "the function result should trigger a second completion"
    follow_up = server.requests[1]["messages"]
    assert validate_chat_request(server.requests[1]) is None
    assistant = next(m for m in follow_up if m["role"] == "assistant")
    assert assistant["tool_calls"][0]["function"]["name"] == "advance_phase"
    tool = next(m for m in follow_up if m["role"] == "tool")
    assert tool["tool_call_id"] == calls[0].tool_call_id and json.loads(tool["content"])["phase"] == "system_design"
    assert any(isinstance(f, FunctionCallResultFrame) for f in down) or context.messages[-1]["role"] == "assistant"
    assert context.messages[-1] == {"role": "assistant", "content": "Great, let us move on to system design."}


async def test_pipecat_reports_a_wrong_key_as_an_error() -> None:
    async with FakeOpenAIServer(responses=["never sent"], api_key=KEY) as server:
        llm = OpenAILLMService(
            api_key="sk-bad", base_url=server.base_url, settings=OpenAILLMService.Settings(model="gpt-4.1")
        )
        errors: list[ErrorFrame] = []

        @llm.event_handler("on_error")
        async def on_error(_service: object, error: ErrorFrame) -> None:
            errors.append(error)

        context = LLMContext(messages=USER)
        down, up = await run_test(llm, frames_to_send=[LLMContextFrame(context)])
    assert not [f for f in down if isinstance(f, LLMTextFrame)]
    assert server.remaining == 1  # rejected before any scripted reply was used
    # an AUTHENTICATION category is what makes ServiceSwitcherStrategyFailover switch providers
    errors_up = [f for f in up if isinstance(f, ErrorFrame)]
    assert len(errors_up) == 1 and errors_up[0].category == ErrorCategory.AUTHENTICATION
    assert isinstance(errors_up[0].exception, openai.AuthenticationError)
    assert errors == errors_up
