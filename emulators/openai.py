"""OpenAI emulator: a local Chat Completions server (real HTTP, real SSE, scripted replies, faults).

Why: no test may need a key or the internet, yet the cloud LLM path (pipecat's OpenAILLMService
and the openai SDK underneath it) must be exercised for real. This server speaks the actual wire
protocol: streamed ``chat.completion.chunk`` events with text deltas and tool-call deltas
(name first, arguments in pieces), ``[DONE]``, the optional usage chunk, non-streaming
``chat.completion`` responses, ``GET /v1/models``, and OpenAI-shaped errors (401 for a wrong key,
400 for malformed requests, including the tool-message ordering rules the real API enforces).

    async with FakeOpenAIServer(responses=["Hello!", FakeResponse(tool_calls=[("next_phase", {})])]) as server:
        llm = OpenAILLMService(api_key="test", base_url=server.base_url, ...)
        ...
        assert server.requests[0]["messages"][0]["role"] == "system"

Faults (``emulators.faults``) apply per request: ``refuse`` cuts the connection, ``http_error:STATUS``
answers with OpenAI's error body (429 as ``rate_limit_error``), ``hang`` never answers,
``slow_first_byte:S`` delays the response, ``drop:N`` cuts the stream after N chunks, ``malformed``
sends a chunk that is not JSON.

    async with FakeOpenAIServer(responder=...) as server:
        server.faults.inject("drop:3")

Standalone: ``python -m emulators.openai --port 8999 [--api-key KEY] [--reply TEXT ...] [--fault SPEC ...]``.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import json
import re
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from emulators.faults import Fault, FaultKind, FaultPlan
from emulators.server import EmulatorServer, cut, hang_forever, run_cli

VALID_ROLES = ("system", "user", "assistant", "tool", "developer")
DEFAULT_TEXT = "Thank you. Could you tell me a bit more about that?"
DEFAULT_MODELS = ("gpt-4.1", "gpt-4.1-mini", "gpt-4o", "gpt-4o-mini")
_FUNCTION_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


@dataclass
class ToolCall:
    """One function call the fake model makes; ``arguments`` may be a dict or a raw JSON string."""

    name: str
    arguments: dict[str, Any] | str = field(default_factory=dict)
    id: str | None = None

    @property
    def arguments_json(self) -> str:
        """Arguments as the API sends them: a JSON string."""
        return self.arguments if isinstance(self.arguments, str) else json.dumps(self.arguments)


@dataclass
class FakeResponse:
    """One scripted reply: text and/or tool calls, or an HTTP error; optional pacing for latency tests."""

    text: str | None = None
    tool_calls: Sequence[ToolCall | tuple[str, dict[str, Any] | str]] = ()
    status: int = 200
    error_message: str | None = None
    error_type: str = "server_error"
    delay: float = 0.0  # seconds before the response starts (time to first byte)
    chunk_delay: float | None = None  # seconds between streamed chunks (None: server default)

    def calls(self) -> list[ToolCall]:
        """Tool calls normalised to ToolCall objects with ids."""
        out = []
        for call in self.tool_calls:
            tc = call if isinstance(call, ToolCall) else ToolCall(name=call[0], arguments=call[1])
            out.append(ToolCall(tc.name, tc.arguments, tc.id or f"call_{uuid.uuid4().hex[:24]}"))
        return out


Responder = Callable[[dict[str, Any]], "FakeResponse | str | Awaitable[FakeResponse | str | None] | None"]


class FakeOpenAIServer(EmulatorServer):
    """aiohttp server on 127.0.0.1 (ephemeral port by default) that plays scripted completions.

    Replies come from ``responder(request_json)`` when given and it returns something, else from
    ``responses`` in order, else ``default_text``. Every chat-completions request body is kept in
    ``requests`` (also the rejected ones), in arrival order.
    """

    name = "openai"

    def __init__(
        self,
        responses: Iterable[FakeResponse | str] = (),
        *,
        responder: Responder | None = None,
        api_key: str | None = None,
        default_text: str = DEFAULT_TEXT,
        models: Sequence[str] = DEFAULT_MODELS,
        chunk_delay: float = 0.0,
        faults: FaultPlan | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        super().__init__(api_key=api_key, faults=faults, host=host, port=port)
        self._responses: deque[FakeResponse | str] = deque(responses)
        self.responder = responder
        self.default_text = default_text
        self.models = list(models)
        self.chunk_delay = chunk_delay
        self.requests: list[dict[str, Any]] = []

    @property
    def base_url(self) -> str:
        """What to pass as ``base_url`` to the openai SDK or OpenAILLMService."""
        return self.url() + "/v1"

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/chat/completions", self._chat_completions)
        app.router.add_get("/v1/models", self._list_models)
        app.router.add_get("/v1/models/{model}", self._get_model)
        app.router.add_route("*", "/{tail:.*}", self._not_found)

    def error_response(self, fault: Fault) -> web.Response:
        if fault.status == 429:
            return _error(429, "Rate limit reached (emulated).", "rate_limit_error", code="rate_limit_exceeded")
        return _error(fault.status, f"The server had an error while processing your request (emulated {fault.status}).",
                      "server_error")  # fmt: skip

    # -- scripting ------------------------------------------------------------------------

    def add_responses(self, *responses: FakeResponse | str) -> None:
        """Queue more scripted replies."""
        self._responses.extend(responses)

    @property
    def remaining(self) -> int:
        """Scripted replies not yet served."""
        return len(self._responses)

    @property
    def last_request(self) -> dict[str, Any]:
        """The most recent chat-completions request body."""
        if not self.requests:
            raise AssertionError("no chat completion request received")
        return self.requests[-1]

    async def _next_response(self, body: dict[str, Any]) -> FakeResponse:
        reply: FakeResponse | str | None = None
        if self.responder is not None:
            produced = self.responder(body)
            reply = await produced if inspect.isawaitable(produced) else produced
        if reply is None:
            reply = self._responses.popleft() if self._responses else self.default_text
        return FakeResponse(text=reply) if isinstance(reply, str) else reply

    # -- handlers -------------------------------------------------------------------------

    async def _chat_completions(self, request: web.Request) -> web.StreamResponse:
        raw = await request.text()
        try:
            body = json.loads(raw)
        except ValueError:
            self.requests.append({"_unparsable_body": raw})
            return _error(400, "We could not parse the JSON body of your request. (HINT: This likely means you aren't "
                          "using your HTTP library correctly. The OpenAI API expects a JSON payload.)")  # fmt: skip
        self.requests.append(body)
        if (faulted := await self.connection_fault(request)) is not None:
            return faulted
        if (denied := self._check_auth(request)) is not None:
            return denied
        if (problem := validate_chat_request(body)) is not None:
            return _error(400, *problem)

        try:
            reply = await self._next_response(body)
        except Exception as exc:  # a broken responder is a 500, like a crashing backend
            return _error(500, f"responder failed: {exc!r}", "server_error")
        fault = self.faults.take(on_connect=False)
        if fault is not None and fault.kind is FaultKind.HANG:
            await hang_forever()
        if fault is not None and fault.kind is FaultKind.SLOW_FIRST_BYTE:
            await asyncio.sleep(fault.delay_secs)
        if reply.delay:
            await asyncio.sleep(reply.delay)
        if reply.status != 200:
            return _error(reply.status, reply.error_message or f"scripted error {reply.status}", reply.error_type)
        completion = _Completion(body, reply)
        if body.get("stream"):
            delay = self.chunk_delay if reply.chunk_delay is None else reply.chunk_delay
            return await self._stream(request, completion, delay, fault)
        return web.json_response(completion.message_response(), headers=_headers())

    async def _stream(
        self, request: web.Request, completion: _Completion, chunk_delay: float, fault: Fault | None = None
    ) -> web.StreamResponse:
        response = web.StreamResponse(
            status=200,
            headers={"Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache", **_headers()},
        )
        await response.prepare(request)
        include_usage = bool((completion.body.get("stream_options") or {}).get("include_usage"))
        try:
            for i, chunk in enumerate(completion.chunks(include_usage)):
                if i and chunk_delay:
                    await asyncio.sleep(chunk_delay)
                if fault is not None and fault.kind is FaultKind.DROP and i >= fault.after:
                    await asyncio.sleep(0.05)  # let the client read what was sent, then cut the socket
                    cut(request)
                    return response
                if fault is not None and fault.kind is FaultKind.MALFORMED and i >= 1:
                    await response.write(b'data: {"choices": [{"delta": not json\n\n')
                    await response.write_eof()
                    return response
                await response.write(f"data: {json.dumps(chunk)}\n\n".encode())
            await response.write(b"data: [DONE]\n\n")
            await response.write_eof()
        except (ConnectionResetError, asyncio.CancelledError):
            pass  # the client hung up mid-stream (an interruption): nothing left to do
        return response

    async def _list_models(self, request: web.Request) -> web.Response:
        if (denied := self._check_auth(request)) is not None:
            return denied
        return web.json_response({"object": "list", "data": [_model(m) for m in self.models]}, headers=_headers())

    async def _get_model(self, request: web.Request) -> web.Response:
        if (denied := self._check_auth(request)) is not None:
            return denied
        name = request.match_info["model"]
        if name not in self.models:
            return _error(404, f"The model `{name}` does not exist or you do not have access to it.",
                          "invalid_request_error", code="model_not_found")  # fmt: skip
        return web.json_response(_model(name), headers=_headers())

    async def _not_found(self, request: web.Request) -> web.Response:
        return _error(404, f"Invalid URL ({request.method} {request.path})")

    def _check_auth(self, request: web.Request) -> web.Response | None:
        if self.api_key is None:
            return None
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer ") or not header[7:].strip():
            return _error(401, "You didn't provide an API key. You need to provide your API key in an Authorization "
                          "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).")  # fmt: skip
        key = header[7:].strip()
        if key != self.api_key:
            masked = key[:3] + "*" * max(0, len(key) - 7) + key[-4:] if len(key) > 7 else "*" * len(key)
            return _error(401, f"Incorrect API key provided: {masked}. You can find your API key at "
                          "https://platform.openai.com/account/api-keys.", code="invalid_api_key")  # fmt: skip
        return None


class _Completion:
    """One reply rendered in the API's streaming and non-streaming shapes."""

    def __init__(self, body: dict[str, Any], reply: FakeResponse) -> None:
        self.body = body
        self.reply = reply
        self.calls = reply.calls()
        self.id = f"chatcmpl-{uuid.uuid4().hex[:29]}"
        self.created = int(time.time())
        self.model = str(body["model"])
        self.finish_reason = "tool_calls" if self.calls else "stop"

    def usage(self) -> dict[str, Any]:
        prompt = sum(_count_tokens(m.get("content")) for m in self.body["messages"] if isinstance(m, dict))
        completion = _count_tokens(self.reply.text) + sum(len(c.arguments_json) // 4 + 1 for c in self.calls)
        return {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0,
                                          "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0},
        }  # fmt: skip

    def message_response(self) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": self.reply.text, "refusal": None, "annotations": []}
        if self.calls:
            message["tool_calls"] = [
                {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments_json}}
                for c in self.calls
            ]
        return {
            "id": self.id,
            "object": "chat.completion",
            "created": self.created,
            "model": self.model,
            "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": self.finish_reason}],
            "usage": self.usage(),
            "service_tier": "default",
            "system_fingerprint": "fp_fake",
        }

    def chunks(self, include_usage: bool) -> Iterable[dict[str, Any]]:
        """The stream: role, text pieces, tool calls (name, then argument pieces), finish, usage."""
        first: dict[str, Any] = {"role": "assistant", "content": "", "refusal": None}
        if self.calls and not self.reply.text:
            first["content"] = None
        yield self._chunk(first, include_usage)
        for piece in _split_text(self.reply.text or ""):
            yield self._chunk({"content": piece}, include_usage)
        for index, call in enumerate(self.calls):
            yield self._chunk({"tool_calls": [{"index": index, "id": call.id, "type": "function",
                                               "function": {"name": call.name, "arguments": ""}}]}, include_usage)  # fmt: skip
            for piece in _split_arguments(call.arguments_json):
                yield self._chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]}, include_usage)
        yield self._chunk({}, include_usage, finish_reason=self.finish_reason)
        if include_usage:
            yield {**self._envelope(), "choices": [], "usage": self.usage()}

    def _envelope(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "service_tier": "default",
            "system_fingerprint": "fp_fake",
        }

    def _chunk(self, delta: dict[str, Any], include_usage: bool, finish_reason: str | None = None) -> dict[str, Any]:
        chunk = {
            **self._envelope(),
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}],
        }
        if include_usage:
            chunk["usage"] = None
        return chunk


def validate_chat_request(body: Any) -> tuple[str, str, str | None, str | None] | None:
    """The first problem the real API would report: (message, type, param, code), or None if valid."""
    bad = "invalid_request_error"
    if not isinstance(body, dict):
        return (
            f"Invalid type for request body: expected an object, but got {_json_type(body)} instead.",
            bad,
            None,
            "invalid_type",
        )
    if not body.get("model"):
        return ("you must provide a model parameter", bad, None, None)
    if "messages" not in body:
        return ("Missing required parameter: 'messages'.", bad, "messages", "missing_required_parameter")
    messages = body["messages"]
    if not isinstance(messages, list):
        return (
            f"Invalid type for 'messages': expected an array, but got {_json_type(messages)} instead.",
            bad,
            "messages",
            "invalid_type",
        )
    if not messages:
        return ("Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
                bad, "messages", "empty_array")  # fmt: skip
    if "stream" in body and body["stream"] is not None and not isinstance(body["stream"], bool):
        return (
            f"Invalid type for 'stream': expected a boolean, but got {_json_type(body['stream'])} instead.",
            bad,
            "stream",
            "invalid_type",
        )
    pending_calls: dict[str, int] = {}  # tool_call_id -> index of the assistant message that made it
    for i, msg in enumerate(messages):
        where = f"messages[{i}]"
        if not isinstance(msg, dict):
            return (
                f"Invalid type for '{where}': expected an object, but got {_json_type(msg)} instead.",
                bad,
                where,
                "invalid_type",
            )
        role = msg.get("role")
        if role is None:
            return (f"Missing required parameter: '{where}.role'.", bad, f"{where}.role", "missing_required_parameter")
        if role not in VALID_ROLES:
            allowed = ", ".join(f"'{r}'" for r in VALID_ROLES[:-1]) + f", and '{VALID_ROLES[-1]}'"
            return (f"Invalid value: '{role}'. Supported values are: {allowed}.", bad, f"{where}.role", "invalid_value")
        if role != "tool" and pending_calls:
            missing = ", ".join(pending_calls)
            j = next(iter(pending_calls.values()))
            return ("An assistant message with 'tool_calls' must be followed by tool messages responding to each "
                    f"'tool_call_id'. The following tool_call_ids did not have response messages: {missing}",
                    bad, f"messages.[{j}].role", None)  # fmt: skip
        content = msg.get("content")
        if role == "assistant":
            calls = msg.get("tool_calls")
            if content is None and not calls:
                return ("Invalid value for 'content': expected a string, got null.", bad, f"{where}.content", None)
            if calls is not None:
                if not isinstance(calls, list):
                    return (
                        f"Invalid type for '{where}.tool_calls': expected an array.",
                        bad,
                        f"{where}.tool_calls",
                        "invalid_type",
                    )
                for k, call in enumerate(calls):
                    fn = call.get("function") if isinstance(call, dict) else None
                    if not isinstance(fn, dict) or not fn.get("name") or not call.get("id"):
                        return (f"Missing required parameter: '{where}.tool_calls[{k}].function'.", bad,
                                f"{where}.tool_calls[{k}]", "missing_required_parameter")  # fmt: skip
                    pending_calls[str(call["id"])] = i
        else:
            if "content" not in msg or content is None:
                return (
                    f"Missing required parameter: '{where}.content'.",
                    bad,
                    f"{where}.content",
                    "missing_required_parameter",
                )
        if content is not None and not isinstance(content, (str, list)):
            return (f"Invalid type for '{where}.content': expected one of a string or array of objects, but got "
                    f"{_json_type(content)} instead.", bad, f"{where}.content", "invalid_type")  # fmt: skip
        if isinstance(content, list) and not all(isinstance(p, dict) and "type" in p for p in content):
            return (f"Invalid '{where}.content': every content part needs a 'type'.", bad, f"{where}.content", None)
        if role == "tool":
            call_id = msg.get("tool_call_id")
            if not call_id:
                return (
                    f"Missing required parameter: '{where}.tool_call_id'.",
                    bad,
                    f"{where}.tool_call_id",
                    "missing_required_parameter",
                )
            if pending_calls.pop(str(call_id), None) is None:
                return ("Invalid parameter: messages with role 'tool' must be a response to a preceeding message with "
                        "'tool_calls'.", bad, f"messages.[{i}].role", None)  # fmt: skip
    if pending_calls:
        missing = ", ".join(pending_calls)
        j = next(iter(pending_calls.values()))
        return ("An assistant message with 'tool_calls' must be followed by tool messages responding to each "
                f"'tool_call_id'. The following tool_call_ids did not have response messages: {missing}",
                bad, f"messages.[{j}].role", None)  # fmt: skip
    tools = body.get("tools")
    if tools is not None:
        if not isinstance(tools, list):
            return (
                f"Invalid type for 'tools': expected an array, but got {_json_type(tools)} instead.",
                bad,
                "tools",
                "invalid_type",
            )
        for k, tool in enumerate(tools):
            fn = tool.get("function") if isinstance(tool, dict) else None
            if not isinstance(tool, dict) or tool.get("type") != "function" or not isinstance(fn, dict):
                return (
                    f"Missing required parameter: 'tools[{k}].function'.",
                    bad,
                    f"tools[{k}].function",
                    "missing_required_parameter",
                )
            if not _FUNCTION_NAME.match(str(fn.get("name", ""))):
                return (f"Invalid 'tools[{k}].function.name': string does not match pattern. Expected a string that "
                        "matches the pattern '^[a-zA-Z0-9_-]+$'.", bad, f"tools[{k}].function.name", "invalid_value")  # fmt: skip
    return None


def _error(status: int, message: str, type_: str = "invalid_request_error", param: str | None = None,
           code: str | None = None) -> web.Response:  # fmt: skip
    return web.json_response(
        {"error": {"message": message, "type": type_, "param": param, "code": code}}, status=status, headers=_headers()
    )


def _headers() -> dict[str, str]:
    return {"x-request-id": f"req_{uuid.uuid4().hex}", "openai-processing-ms": "1"}


def _model(name: str) -> dict[str, Any]:
    return {"id": name, "object": "model", "created": 1700000000, "owned_by": "fake-openai"}


def _split_text(text: str) -> list[str]:
    """Word-sized pieces, like tokens: each keeps its leading space."""
    return re.findall(r"\s*\S+", text) + ([trailing] if (trailing := text[len(text.rstrip()) :]) else [])


def _split_arguments(arguments: str, size: int = 8) -> list[str]:
    return [arguments[i : i + size] for i in range(0, len(arguments), size)] or [""]


def _count_tokens(content: Any) -> int:
    if isinstance(content, str):
        return len(content.split())
    if isinstance(content, list):
        return sum(_count_tokens(p.get("text")) for p in content if isinstance(p, dict))
    return 0


def _json_type(value: Any) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean", int: "an integer",
             float: "a decimal", type(None): "null"}  # fmt: skip
    return names.get(type(value), type(value).__name__)


def _openai_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--reply", action="append", help="scripted reply text, in order (repeatable)")
    p.add_argument("--chunk-delay", type=float, default=0.0, help="seconds between streamed chunks")


def main(argv: list[str] | None = None) -> None:
    run_cli(
        lambda args, plan: FakeOpenAIServer(
            responses=args.reply or (),
            api_key=args.api_key,
            chunk_delay=args.chunk_delay,
            faults=plan,
            host=args.host,
            port=args.port,
        ),
        description="Local OpenAI-compatible Chat Completions emulator with scripted replies.",
        port=8999,
        setting="OPENAI_BASE_URL",
        argv=argv,
        add_arguments=_openai_arguments,
    )


if __name__ == "__main__":
    main()
