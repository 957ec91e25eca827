"""Creating rooms and join tokens through the providers' server APIs.

LiveKit: `livekit.api.LiveKitAPI` RoomService.CreateRoom (Twirp) with the
session contract as the room's metadata; join tokens are signed locally.
Daily: `DailyRESTHelper` (POST /rooms, POST /meeting-tokens) for a short-lived
private room, the bot's token and the candidate's token. Both take an API base
URL so tests (and self-hosted servers) can point them elsewhere.

`create_room(kind, settings, request)` is the one entry point, for the bot (`--transport daily`
with no `--room-url`) and the launcher alike; `bot_join_flags` is how a bot is told to join.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import timedelta

import aiohttp

from settings import Settings
from transports.livekit import mint_agent_token, mint_candidate_token

ROOM_EMPTY_TIMEOUT_SECONDS = 300
ROOM_JOIN_WINDOW_SECONDS = 900  # a created room outlives the session timeout by this: time to join
DAILY_API_URL = "https://api.daily.co/v1"
ROOM_KINDS = ("daily", "livekit")


class RoomSetupError(ValueError):
    """The settings lack what creating this kind of room needs; `missing` names the settings."""

    def __init__(self, kind: str, missing: str) -> None:
        super().__init__(f"{kind} rooms need {missing}" if missing else f"transport {kind}: not a room")
        self.missing = missing


@dataclass(frozen=True)
class RoomRequest:
    """What a new room is for: the session it holds and the candidate who may join it."""

    session_id: str
    lifetime_seconds: float  # the session timeout plus ROOM_JOIN_WINDOW_SECONDS
    candidate_identity: str = "candidate"
    candidate_name: str | None = None
    metadata: str = ""  # the session contract (LiveKit keeps it as the room's metadata)


@dataclass(frozen=True)
class RoomTickets:
    """A created room and who may join it."""

    room: str  # LiveKit room name / Daily room URL
    join_url: str  # what the candidate's browser opens (server URL for LiveKit, room URL for Daily)
    bot_token: str
    candidate_token: str


async def create_livekit_room(
    *,
    server_url: str,
    api_url: str | None,
    api_key: str,
    api_secret: str,
    room: str,
    metadata: str,
    candidate_identity: str,
    candidate_name: str | None,
    token_ttl: timedelta,
) -> RoomTickets:
    """CreateRoom with the metadata contract, then the bot's and the candidate's tokens."""
    from livekit import api

    lk = api.LiveKitAPI(_http_url(api_url or server_url), api_key, api_secret, failover=False)
    try:
        await lk.room.create_room(
            api.CreateRoomRequest(
                name=room, metadata=metadata, empty_timeout=ROOM_EMPTY_TIMEOUT_SECONDS, max_participants=4
            )
        )
    finally:
        await lk.aclose()
    return RoomTickets(
        room=room,
        join_url=server_url,
        bot_token=mint_agent_token(api_key, api_secret, room),
        candidate_token=mint_candidate_token(
            api_key,
            api_secret,
            room,
            candidate_identity,
            candidate_name,
            token_ttl,
            metadata=json.dumps({"role": "candidate", "room": room}),
        ),
    )


async def create_daily_room(
    *,
    api_key: str,
    api_url: str | None,
    lifetime_seconds: float,
    candidate_identity: str,
    candidate_name: str | None,
    session: aiohttp.ClientSession,
) -> RoomTickets:
    """A private room that expires (and ejects everyone) after `lifetime_seconds`, and two tokens."""
    from pipecat.transports.daily.utils import (
        DailyMeetingTokenParams,
        DailyMeetingTokenProperties,
        DailyRESTHelper,
        DailyRoomParams,
        DailyRoomProperties,
    )

    helper = DailyRESTHelper(daily_api_key=api_key, daily_api_url=api_url or DAILY_API_URL, aiohttp_session=session)
    expires = time.time() + lifetime_seconds
    room = await helper.create_room(
        DailyRoomParams(
            privacy="private", properties=DailyRoomProperties(exp=expires, eject_at_room_exp=True, max_participants=4)
        )
    )
    bot_token = await helper.get_token(
        room.url,
        expiry_time=lifetime_seconds,
        eject_at_token_exp=True,
        owner=True,
        params=DailyMeetingTokenParams(properties=DailyMeetingTokenProperties(user_name="Interviewer")),
    )
    candidate_token = await helper.get_token(
        room.url,
        expiry_time=lifetime_seconds,
        eject_at_token_exp=True,
        owner=False,
        params=DailyMeetingTokenParams(
            properties=DailyMeetingTokenProperties(user_id=candidate_identity, user_name=candidate_name or "Candidate")
        ),
    )
    return RoomTickets(
        room=room.url, join_url=f"{room.url}?t={candidate_token}", bot_token=bot_token, candidate_token=candidate_token
    )


async def create_room(kind: str, settings: Settings, request: RoomRequest) -> RoomTickets:
    """A room of `kind` ("daily" or "livekit") and its tokens; RoomSetupError when settings are missing."""
    if kind == "livekit":
        if not (settings.livekit_url and settings.livekit_api_key and settings.livekit_api_secret):
            raise RoomSetupError(kind, "LIVEKIT_URL / LIVEKIT_API_KEY / LIVEKIT_API_SECRET")
        return await create_livekit_room(
            server_url=settings.livekit_url,
            api_url=settings.livekit_api_url,
            api_key=settings.livekit_api_key.get_secret_value(),
            api_secret=settings.livekit_api_secret.get_secret_value(),
            room=f"interview-{request.session_id}",
            metadata=request.metadata,
            candidate_identity=request.candidate_identity,
            candidate_name=request.candidate_name,
            token_ttl=timedelta(seconds=request.lifetime_seconds),
        )
    if kind == "daily":
        if settings.daily_api_key is None:
            raise RoomSetupError(kind, "DAILY_API_KEY")
        async with aiohttp.ClientSession() as http:
            return await create_daily_room(
                api_key=settings.daily_api_key.get_secret_value(),
                api_url=settings.daily_api_url,
                lifetime_seconds=request.lifetime_seconds,
                candidate_identity=request.candidate_identity,
                candidate_name=request.candidate_name,
                session=http,
            )
    raise RoomSetupError(kind, "")


def is_room(kind: str) -> bool:
    """Whether a session of this transport kind happens in a room someone must create first."""
    return kind in ROOM_KINDS


def bot_join_flags(kind: str, tickets: RoomTickets, token_file: str, contract_file: str) -> list[str]:
    """bot.py's flags to join the room in `tickets` (the token in a 0600 file, never in argv).

    A LiveKit bot reads its contract from the room's metadata; a Daily room has none, so the file."""
    if kind == "livekit":
        return ["--room", tickets.room, "--url", tickets.join_url, "--token-file", token_file]
    if kind == "daily":
        return ["--room-url", tickets.room, "--token-file", token_file, "--contract", contract_file]
    raise RoomSetupError(kind, "")


def _http_url(url: str) -> str:
    """LiveKit's server API speaks HTTP(S) on the same host as the wss:// signalling URL."""
    return url.replace("wss://", "https://", 1).replace("ws://", "http://", 1)
