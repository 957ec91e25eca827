"""A local Daily REST API (rooms and meeting tokens) that checks requests like the real one.

`POST /rooms` (JSON: optional name, privacy, properties) -> the room object (id, name,
api_created, privacy, url, created_at, config); `POST /meeting-tokens` (JSON:
`{"properties": {...}}`, `room_name` must be an existing room) -> `{"token": ...}`.
Both need `Authorization: Bearer <DAILY_API_KEY>`; errors are Daily-shaped
(`{"error": ..., "info": ...}`) with 401/400/404.
"""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from tests.fakes.local_http import LocalHTTPServer

ROOM_PROPERTIES = {
    "exp",
    "nbf",
    "max_participants",
    "eject_at_room_exp",
    "enable_chat",
    "enable_prejoin_ui",
    "enable_emoji_reactions",
    "enable_dialout",
    "enable_recording",
    "enable_transcription_storage",
    "geo",
    "start_video_off",
    "start_audio_off",
    "sip",
    "sip_uri",
    "recordings_bucket",
    "transcription_bucket",
}
TOKEN_PROPERTIES = {
    "room_name",
    "eject_at_token_exp",
    "eject_after_elapsed",
    "nbf",
    "exp",
    "is_owner",
    "user_name",
    "user_id",
    "enable_screenshare",
    "start_video_off",
    "start_audio_off",
    "enable_recording",
    "enable_prejoin_ui",
    "start_cloud_recording",
    "permissions",
}


def _error(status: int, error: str, info: str) -> web.Response:
    return web.json_response({"error": error, "info": info}, status=status)


class FakeDailyServer(LocalHTTPServer):
    def __init__(self, api_key: str, domain: str = "fake.daily.co") -> None:
        super().__init__()
        self.api_key, self.domain = api_key, domain
        self.rooms: dict[str, dict[str, Any]] = {}
        self.tokens: list[dict[str, Any]] = []

    def routes(self) -> list[web.RouteDef]:
        return [web.post("/rooms", self._create_room), web.post("/meeting-tokens", self._create_token)]

    async def _body(self, request: web.Request) -> dict[str, Any] | web.Response:
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return _error(401, "authentication-error", "bad or missing API key")
        try:
            body = await request.json()
        except json.JSONDecodeError:
            return _error(400, "invalid-request-error", "body must be JSON")
        if not isinstance(body, dict):
            return _error(400, "invalid-request-error", "body must be an object")
        self.requests.append({"path": request.path, "body": body})
        return body

    async def _create_room(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        if isinstance(body, web.Response):
            return body
        properties = body.get("properties", {})
        unknown = set(properties) - ROOM_PROPERTIES
        if unknown:
            return _error(400, "invalid-request-error", f"unknown room properties {sorted(unknown)}")
        if body.get("privacy", "public") not in ("public", "private"):
            return _error(400, "invalid-request-error", "privacy must be public or private")
        name = body.get("name") or uuid.uuid4().hex[:12]
        room = {
            "id": str(uuid.uuid4()),
            "name": name,
            "api_created": True,
            "privacy": body.get("privacy", "public"),
            "url": f"https://{self.domain}/{name}",
            "created_at": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "config": properties,
        }
        self.rooms[name] = room
        return web.json_response(room)

    async def _create_token(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        if isinstance(body, web.Response):
            return body
        properties = body.get("properties")
        if not isinstance(properties, dict):
            return _error(400, "invalid-request-error", "properties is required")
        unknown = set(properties) - TOKEN_PROPERTIES
        if unknown:
            return _error(400, "invalid-request-error", f"unknown token properties {sorted(unknown)}")
        if properties.get("room_name") not in self.rooms:
            return _error(404, "not-found", f"room {properties.get('room_name')} does not exist")
        self.tokens.append(properties)
        payload = base64.urlsafe_b64encode(json.dumps(properties).encode()).decode().rstrip("=")
        return web.json_response({"token": f"fake.{payload}.sig"})
