"""LiveKit room transport, the join tokens, and reading the session contract from room metadata.

What Pipecat 1.14's `LiveKitTransport` lacks and this module adds:
- a candidate: with `audio_in_user_tracks` every participant's audio enters the
  pipeline. The handle's `after_input` filter (`transports.candidate_audio`) drops every
  audio frame that is not the candidate's, and other participants' audio tracks are unsubscribed;
- `on_candidate_joined` / `on_candidate_left` events (a recruiter leaving does
  not end the interview; the candidate leaving or the room emptying does);
- the room's metadata, which the transport does not expose: `read_room_metadata`
  joins briefly (without subscribing) and polls `Room.metadata`.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from livekit import api as livekit_api
from pipecat.transports.livekit.transport import (
    LiveKitOutputTransportMessageUrgentFrame,
    LiveKitParams,
    LiveKitTransport,
)

from transports.candidate_audio import candidate_audio_filter
from transports.common import TransportHandle
from transports.input_limits import InputLimits
from transports.room_candidate import CandidateGate
from transports.room_messages import RoomMessageGuard
from transports.room_metadata import DEFAULT_METADATA_TIMEOUT, PollResult, wait_for_metadata

INPUT_SAMPLE_RATE = 16000
OUTPUT_SAMPLE_RATE = 24000
AGENT_IDENTITY = "interviewer-bot"
CANDIDATE_TOKEN_TTL = timedelta(hours=2)


def mint_agent_token(api_key: str, api_secret: str, room: str, identity: str = AGENT_IDENTITY) -> str:
    """A join token for the bot: may publish its voice and subscribe to the candidate."""
    grants = livekit_api.VideoGrants(room_join=True, room=room, can_publish=True, can_subscribe=True)
    return (
        livekit_api.AccessToken(api_key, api_secret)
        .with_identity(identity)
        .with_name("Interviewer")
        .with_grants(grants)
        .to_jwt()
    )


def mint_candidate_token(
    api_key: str,
    api_secret: str,
    room: str,
    identity: str,
    name: str | None = None,
    ttl: timedelta = CANDIDATE_TOKEN_TTL,
    metadata: str | None = None,
) -> str:
    """The candidate's browser join token: this room only, publish mic, subscribe to the bot; no admin.

    `metadata` becomes the participant's metadata (e.g. their role and session), visible to the room.
    """
    grants = livekit_api.VideoGrants(
        room_join=True, room=room, can_publish=True, can_subscribe=True, can_publish_data=True
    )
    token = livekit_api.AccessToken(api_key, api_secret).with_identity(identity).with_grants(grants).with_ttl(ttl)
    if name:
        token = token.with_name(name)
    if metadata:
        token = token.with_metadata(metadata)
    return token.to_jwt()


class InterviewLiveKitTransport(LiveKitTransport):
    """`LiveKitTransport` with a candidate (whose audio the handle's filter lets in) and candidate joined/left events."""

    def __init__(
        self, *args: Any, candidate_identity: str | None = None, limits: InputLimits | None = None, **kwargs: Any
    ):
        super().__init__(*args, **kwargs)
        self.gate = CandidateGate(expected_identity=candidate_identity)
        self.messages = RoomMessageGuard(limits or InputLimits.from_environment(), peer="livekit room")
        self._register_event_handler("on_candidate_joined")
        self._register_event_handler("on_candidate_left")
        self.add_event_handler("on_participant_connected", self._on_someone_joined)
        self.add_event_handler("on_participant_disconnected", self._on_someone_left)
        self.add_event_handler("on_audio_track_subscribed", self._on_audio_subscribed)

    async def _on_data_received(self, data: bytes, participant_id: str | None) -> None:
        """Only the candidate page's RTVI messages become frames (transports/room_messages.py)."""
        try:
            message: Any = json.loads(data)
        except (UnicodeDecodeError, ValueError):
            message = data  # not JSON: refused below as a non-object
        if await self.messages.admit(message, participant_id, self._reply, size=len(data)):
            await super()._on_data_received(data, participant_id)

    async def _reply(self, message: dict[str, Any], sender: str | None) -> None:
        if self._output:
            await self._output.send_message(
                LiveKitOutputTransportMessageUrgentFrame(message=message, participant_id=sender)
            )

    async def _on_someone_joined(self, _transport: Any, identity: str) -> None:
        if self.gate.joined(identity):
            for other in self.gate.present - {identity}:
                await self.mute_participant(other)
            await self._call_event_handler("on_candidate_joined", identity)

    async def _on_someone_left(self, _transport: Any, identity: str) -> None:
        if self.gate.left(identity):
            await self._call_event_handler("on_candidate_left", identity)

    async def _on_audio_subscribed(self, _transport: Any, identity: str) -> None:
        if self.gate.candidate is not None and identity != self.gate.candidate:
            await self.mute_participant(identity)  # save the bandwidth; the input filter is the guarantee


def livekit_params() -> LiveKitParams:
    return LiveKitParams(
        audio_in_enabled=True,
        audio_out_enabled=True,
        audio_in_sample_rate=INPUT_SAMPLE_RATE,
        audio_out_sample_rate=OUTPUT_SAMPLE_RATE,
        audio_in_user_tracks=True,  # tagged per participant, so the candidate's can be picked out
    )


def create_livekit_transport(
    url: str, token: str, room_name: str, candidate_identity: str | None = None, limits: InputLimits | None = None
) -> TransportHandle:
    transport = InterviewLiveKitTransport(
        url=url,
        token=token,
        room_name=room_name,
        params=livekit_params(),
        candidate_identity=candidate_identity,
        limits=limits,
    )
    return TransportHandle(
        kind="livekit",
        transport=transport,
        input_sample_rate=INPUT_SAMPLE_RATE,
        output_sample_rate=OUTPUT_SAMPLE_RATE,
        joined_event="on_candidate_joined",
        left_event="on_candidate_left",
        description=f"livekit room {room_name}",
        after_input=(candidate_audio_filter(transport.gate),),
    )


async def read_room_metadata(url: str, token: str, *, timeout: float = DEFAULT_METADATA_TIMEOUT) -> PollResult:
    """Join the room without subscribing, poll its metadata (150 ms) until set or `timeout`, leave.

    The connection itself is the only part not exercised offline; the polling is
    `wait_for_metadata`, tested with a fake clock.
    """
    from livekit import rtc

    room = rtc.Room()
    await room.connect(url, token, options=rtc.RoomOptions(auto_subscribe=False))
    try:
        return await wait_for_metadata(lambda: room.metadata, timeout=timeout)
    finally:
        await room.disconnect()
