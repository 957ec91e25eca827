"""POST /sessions' body: read within a size limit, parsed within a depth limit, validated.

Why not FastAPI's own body parsing: it reads any size into memory and lets `json.loads`'
RecursionError on deep nesting become a 500. Here a body over `MAX_BODY_BYTES` is a 413
before it is all read, bad JSON or nesting a 422 saying so, and wrong types a 422 naming
the field, like every other launcher error. Unknown fields are left to the session
contract, which refuses them by name.
"""

from __future__ import annotations

import json
from typing import Literal

from fastapi import HTTPException, Request
from pydantic import BaseModel, ConfigDict, ValidationError

from interview.loader import describe_validation_error
from interview.safe_parsing import MAX_TEXT_BYTES, InputLimitError, parse_json

MAX_BODY_BYTES = MAX_TEXT_BYTES  # an inline interview config is the largest thing a request carries


class LaunchRequest(BaseModel):
    """The transport plus the session contract's fields (interview, candidate, overrides)."""

    model_config = ConfigDict(extra="allow")

    transport: Literal["livekit", "daily", "websocket"]


async def read_launch_request(request: Request) -> LaunchRequest:
    body = await _read_body(request)
    try:
        data = parse_json(body)
    except InputLimitError as exc:
        raise HTTPException(422, f"request: {exc}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise HTTPException(422, f"request: invalid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise HTTPException(422, f"request: expected a JSON object, got {type(data).__name__}")
    try:
        return LaunchRequest.model_validate(data)
    except ValidationError as exc:
        raise HTTPException(422, f"request: {describe_validation_error(exc)}") from None


async def _read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise HTTPException(413, f"request body over {MAX_BODY_BYTES} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise HTTPException(413, f"request body over {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
