"""LiveKit room transport, plus minting the agent's own access token."""

from __future__ import annotations

from livekit import api as livekit_api
from pipecat.transports.livekit.transport import LiveKitParams, LiveKitTransport

from transports.common import TransportHandle

INPUT_SAMPLE_RATE = 16000
OUTPUT_SAMPLE_RATE = 24000


def mint_agent_token(api_key: str, api_secret: str, room: str, identity: str = "interviewer-bot") -> str:
    """A join token for the bot: may publish its voice and subscribe to the candidate."""
    grants = livekit_api.VideoGrants(room_join=True, room=room, can_publish=True, can_subscribe=True)
    return (
        livekit_api.AccessToken(api_key, api_secret)
        .with_identity(identity)
        .with_name("Interviewer")
        .with_grants(grants)
        .to_jwt()
    )


def create_livekit_transport(url: str, token: str, room_name: str) -> TransportHandle:
    params = LiveKitParams(
        audio_in_enabled=True,
        audio_out_enabled=True,
        audio_in_sample_rate=INPUT_SAMPLE_RATE,
        audio_out_sample_rate=OUTPUT_SAMPLE_RATE,
    )
    return TransportHandle(
        kind="livekit",
        transport=LiveKitTransport(url=url, token=token, room_name=room_name, params=params),
        input_sample_rate=INPUT_SAMPLE_RATE,
        output_sample_rate=OUTPUT_SAMPLE_RATE,
        joined_event="on_first_participant_joined",
        left_event="on_participant_disconnected",
        description=f"livekit room {room_name}",
    )
