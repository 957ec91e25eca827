"""A local LiveKit server API (RoomService over Twirp) that checks requests like the real one.

Twirp: `POST /twirp/livekit.RoomService/CreateRoom`, body a protobuf `CreateRoomRequest`
(`Content-Type: application/protobuf`), `Authorization: Bearer <JWT>` signed with the
API secret, issued by the API key, carrying the `roomCreate` video grant. Answers a
protobuf `Room`; errors are Twirp JSON (`{"code", "msg"}`) with 401/400/409.
"""

from __future__ import annotations

import time

import jwt
from aiohttp import web
from livekit import api

from tests.fakes.local_http import LocalHTTPServer, twirp_error


class FakeLiveKitServer(LocalHTTPServer):
    def __init__(self, api_key: str, api_secret: str) -> None:
        super().__init__()
        self.api_key, self.api_secret = api_key, api_secret
        self.rooms: dict[str, api.Room] = {}

    def routes(self) -> list[web.RouteDef]:
        return [web.post("/twirp/livekit.RoomService/CreateRoom", self._create_room)]

    def _check_auth(self, request: web.Request, grant: str) -> web.Response | None:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return twirp_error(401, "unauthenticated", "missing bearer token")
        try:
            claims = jwt.decode(header[7:], self.api_secret, algorithms=["HS256"], options={"verify_aud": False})
        except jwt.PyJWTError as exc:
            return twirp_error(401, "unauthenticated", f"invalid token: {exc}")
        if claims.get("iss") != self.api_key:
            return twirp_error(401, "unauthenticated", "unknown API key")
        if not claims.get("video", {}).get(grant):
            return twirp_error(403, "permission_denied", f"missing grant {grant}")
        return None

    async def _create_room(self, request: web.Request) -> web.Response:
        if (error := self._check_auth(request, "roomCreate")) is not None:
            return error
        if request.headers.get("Content-Type") != "application/protobuf":
            return twirp_error(400, "malformed", "expected application/protobuf")
        try:
            create = api.CreateRoomRequest.FromString(await request.read())
        except Exception as exc:
            return twirp_error(400, "malformed", str(exc))
        self.requests.append({"method": "CreateRoom", "request": create})
        if not create.name:
            return twirp_error(400, "invalid_argument", "name is required")
        if create.name in self.rooms:
            return twirp_error(409, "already_exists", "room already exists")
        room = api.Room(
            sid=f"RM_{len(self.rooms) + 1}",
            name=create.name,
            metadata=create.metadata,
            empty_timeout=create.empty_timeout,
            max_participants=create.max_participants,
            creation_time=int(time.time()),
        )
        self.rooms[create.name] = room
        return web.Response(body=room.SerializeToString(), content_type="application/protobuf")
