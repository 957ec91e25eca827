"""Room creation and join tokens against local servers that speak LiveKit's and Daily's real APIs."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import aiohttp
import jwt
import pytest

from tests.fakes.daily_server import FakeDailyServer
from tests.fakes.livekit_server import FakeLiveKitServer
from transports.livekit import mint_candidate_token
from transports.room_api import create_daily_room, create_livekit_room

KEY, SECRET = "APIfake", "s" * 40
METADATA = json.dumps({"interview": "senior_backend_engineer", "candidate_identity": "cand-1"})


def claims(token: str) -> dict:
    return jwt.decode(token, SECRET, algorithms=["HS256"], options={"verify_aud": False})


def test_candidate_token_is_limited_to_the_room_and_expires() -> None:
    before = time.time()
    token = mint_candidate_token(
        KEY, SECRET, "interview-1", "cand-1", "Ada", ttl=timedelta(minutes=90), metadata='{"role": "candidate"}'
    )
    c = claims(token)
    assert json.loads(c["metadata"]) == {"role": "candidate"}
    assert c["iss"] == KEY and c["sub"] == "cand-1" and c["name"] == "Ada"
    assert c["video"]["room"] == "interview-1" and c["video"]["roomJoin"] is True
    assert c["video"]["canPublish"] and c["video"]["canSubscribe"] and c["video"]["canPublishData"]
    assert not c["video"].get("roomAdmin") and not c["video"].get("roomCreate")
    assert before + 90 * 60 - 5 <= c["exp"] <= time.time() + 90 * 60 + 5


async def test_livekit_room_is_created_with_the_contract_as_metadata() -> None:
    async with FakeLiveKitServer(KEY, SECRET) as server:
        tickets = await create_livekit_room(
            server_url="wss://lk.example",
            api_url=server.base_url,
            api_key=KEY,
            api_secret=SECRET,
            room="interview-abc",
            metadata=METADATA,
            candidate_identity="cand-1",
            candidate_name="Ada",
            token_ttl=timedelta(hours=1),
        )
    created = server.requests[0]["request"]
    assert created.name == "interview-abc" and json.loads(created.metadata) == json.loads(METADATA)
    assert created.empty_timeout > 0 and created.max_participants >= 2
    assert server.rooms["interview-abc"].metadata == METADATA
    assert tickets.room == "interview-abc" and tickets.join_url == "wss://lk.example"
    bot, candidate = claims(tickets.bot_token), claims(tickets.candidate_token)
    assert bot["sub"] == "interviewer-bot" and bot["video"]["room"] == "interview-abc"
    assert candidate["sub"] == "cand-1" and candidate["video"]["room"] == "interview-abc"
    assert json.loads(candidate["metadata"]) == {"role": "candidate", "room": "interview-abc"}
    assert candidate["name"] == "Ada" and not bot.get("metadata")


async def test_livekit_room_creation_with_a_wrong_secret_is_refused() -> None:
    async with FakeLiveKitServer(KEY, SECRET) as server:
        with pytest.raises(Exception, match=r"invalid token|unauthenticated"):
            await create_livekit_room(
                server_url="wss://lk.example",
                api_url=server.base_url,
                api_key=KEY,
                api_secret="w" * 40,
                room="r",
                metadata=METADATA,
                candidate_identity="c",
                candidate_name=None,
                token_ttl=timedelta(hours=1),
            )
    assert server.rooms == {}


async def test_daily_room_and_both_meeting_tokens_are_created() -> None:
    async with FakeDailyServer("daily-key") as server, aiohttp.ClientSession() as http:
        before = time.time()
        tickets = await create_daily_room(
            api_key="daily-key",
            api_url=server.base_url,
            lifetime_seconds=600,
            candidate_identity="cand-1",
            candidate_name="Ada",
            session=http,
        )
    room_request, bot_request, candidate_request = (r["body"] for r in server.requests)
    assert [r["path"] for r in server.requests] == ["/rooms", "/meeting-tokens", "/meeting-tokens"]
    assert room_request["privacy"] == "private"
    assert before + 590 <= room_request["properties"]["exp"] <= time.time() + 610
    assert room_request["properties"]["eject_at_room_exp"] is True
    name = next(iter(server.rooms))
    assert tickets.room == f"https://fake.daily.co/{name}"
    bot, candidate = bot_request["properties"], candidate_request["properties"]
    assert bot["room_name"] == candidate["room_name"] == name
    assert bot["is_owner"] is True and candidate["is_owner"] is False
    assert candidate["user_id"] == "cand-1" and candidate["user_name"] == "Ada"
    assert candidate["exp"] <= time.time() + 610 and candidate["eject_at_token_exp"] is True
    assert tickets.join_url == f"{tickets.room}?t={tickets.candidate_token}"
    assert tickets.bot_token != tickets.candidate_token


async def test_daily_with_a_wrong_key_fails_clearly() -> None:
    async with FakeDailyServer("daily-key") as server, aiohttp.ClientSession() as http:
        with pytest.raises(Exception, match="Unable to create room \\(status: 401\\)"):
            await create_daily_room(
                api_key="nope",
                api_url=server.base_url,
                lifetime_seconds=60,
                candidate_identity="c",
                candidate_name=None,
                session=http,
            )
