"""Who the candidate is in a room, whose audio enters, and when the session ends."""

from __future__ import annotations

import asyncio

from pipecat.frames.frames import UserAudioRawFrame
from pipecat.tests.utils import run_test

from transports import create_transport
from transports.room_candidate import CandidateGate


def test_first_participant_is_the_candidate_without_an_expected_identity() -> None:
    gate = CandidateGate()
    assert gate.accepts_audio("alice") is False  # nobody's audio before the candidate is known
    assert gate.joined("alice") is True
    assert gate.joined("recruiter") is False
    assert gate.accepts_audio("alice") and not gate.accepts_audio("recruiter") and not gate.accepts_audio(None)
    assert gate.left("recruiter") is False  # an observer leaving does not end the interview
    assert gate.left("alice") is True
    assert gate.left("alice") is False  # reported once


def test_expected_identity_wins_over_whoever_joins_first() -> None:
    gate = CandidateGate(expected_identity="cand-7")
    assert gate.joined("recruiter") is False
    assert gate.candidate is None and not gate.accepts_audio("recruiter")
    assert gate.joined("session-xyz", user_id="cand-7") is True  # Daily: matched on the token's user_id
    assert gate.candidate == "session-xyz" and gate.accepts_audio("session-xyz")


def test_room_emptying_ends_the_session() -> None:
    gate = CandidateGate(expected_identity="cand")
    gate.joined("observer")
    assert gate.left("observer") is True  # the room is empty


def frame(user: str) -> UserAudioRawFrame:
    return UserAudioRawFrame(user_id=user, audio=b"\0\0" * 160, sample_rate=16000, num_channels=1)


async def _events_and_filter(kind: str, join_args, leave_args) -> None:  # type: ignore[no-untyped-def]
    kwargs = (
        {"url": "wss://lk.example", "token": "t", "room_name": "r"}
        if kind == "livekit"
        else {"room_url": "https://x.daily.co/r", "token": "t"}
    )
    handle = create_transport(kind, candidate_identity="cand", **kwargs)
    events: list[str] = []

    async def joined() -> None:
        events.append("joined")

    async def left() -> None:
        events.append("left")

    handle.on_candidate_joined(joined)
    handle.on_candidate_left(left)
    transport = handle.transport
    joined_event = "on_participant_connected" if kind == "livekit" else "on_participant_joined"
    left_event = "on_participant_disconnected" if kind == "livekit" else "on_participant_left"
    for args in join_args:
        await transport._call_event_handler(joined_event, *args)
    await asyncio.sleep(0.05)
    assert events == ["joined"]

    # The handle's filter, right after transport.input(): only the candidate's audio goes on.
    (audio_filter,) = handle.after_input
    down, _up = await run_test(audio_filter, frames_to_send=[frame("observer"), frame(transport.gate.candidate)])
    assert [f.user_id for f in down if isinstance(f, UserAudioRawFrame)] == [transport.gate.candidate]

    for args in leave_args:
        await transport._call_event_handler(left_event, *args)
    await asyncio.sleep(0.05)
    assert events == ["joined", "left"]


async def test_livekit_transport_events_and_audio_follow_the_candidate(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from transports.livekit import InterviewLiveKitTransport

    muted: list[str] = []

    async def mute(self, identity: str) -> None:  # type: ignore[no-untyped-def]
        muted.append(identity)

    monkeypatch.setattr(InterviewLiveKitTransport, "mute_participant", mute)
    await _events_and_filter("livekit", [("observer",), ("cand",)], [("observer",), ("cand",)])
    assert muted == ["observer"]  # the observer's audio track is unsubscribed once the candidate is known


async def test_daily_transport_events_and_audio_follow_the_candidate() -> None:
    observer = {"id": "p-1", "info": {"userId": "recruiter"}}
    candidate = {"id": "p-2", "info": {"userId": "cand"}}
    await _events_and_filter("daily", [(observer,), (candidate,)], [(observer, "leftCall"), (candidate, "leftCall")])
