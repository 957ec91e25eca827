"""Daily room transport: the bot joins a room with a URL and token and interviews the candidate.

What Pipecat 1.14's `DailyTransport` lacks and this module adds, as for LiveKit:
only the candidate's audio enters the pipeline (Daily captures every
participant's microphone as its own tagged stream), and candidate joined/left
events (the candidate is the participant whose token `user_id` the session
contract names, else the first to join; they leave or the room empties -> end).
"""

from __future__ import annotations

from typing import Any

from pipecat.transports.daily.transport import DailyOutputTransportMessageUrgentFrame, DailyParams, DailyTransport

from transports.candidate_audio import candidate_audio_filter
from transports.common import TransportHandle
from transports.input_limits import InputLimits
from transports.room_candidate import CandidateGate
from transports.room_messages import RoomMessageGuard

INPUT_SAMPLE_RATE = 16000
OUTPUT_SAMPLE_RATE = 24000


class InterviewDailyTransport(DailyTransport):
    """`DailyTransport` with a candidate (whose audio the handle's filter lets in) and candidate joined/left events."""

    def __init__(
        self, *args: Any, candidate_identity: str | None = None, limits: InputLimits | None = None, **kwargs: Any
    ):
        super().__init__(*args, **kwargs)
        self.gate = CandidateGate(expected_identity=candidate_identity)
        self.messages = RoomMessageGuard(limits or InputLimits.from_environment(), peer="daily room")
        self._register_event_handler("on_candidate_joined")
        self._register_event_handler("on_candidate_left")
        self.add_event_handler("on_participant_joined", self._on_someone_joined)
        self.add_event_handler("on_participant_left", self._on_someone_left)

    async def _on_app_message(self, message: Any, sender: str) -> None:
        """Only the candidate page's RTVI messages become frames (transports/room_messages.py)."""
        if await self.messages.admit(message, sender, self._reply):
            await super()._on_app_message(message, sender)

    async def _reply(self, message: dict[str, Any], sender: str | None) -> None:
        if self._output:
            await self._output.send_message(
                DailyOutputTransportMessageUrgentFrame(message=message, participant_id=sender)
            )

    async def _on_someone_joined(self, _transport: Any, participant: dict[str, Any]) -> None:
        user_id = (participant.get("info") or {}).get("userId")
        if self.gate.joined(participant["id"], user_id):
            await self._call_event_handler("on_candidate_joined", participant["id"])

    async def _on_someone_left(self, _transport: Any, participant: dict[str, Any], _reason: Any) -> None:
        if self.gate.left(participant["id"]):
            await self._call_event_handler("on_candidate_left", participant["id"])


def create_daily_transport(
    room_url: str,
    token: str | None,
    bot_name: str = "Interviewer",
    candidate_identity: str | None = None,
    limits: InputLimits | None = None,
) -> TransportHandle:
    params = DailyParams(
        audio_in_enabled=True,
        audio_out_enabled=True,
        audio_in_sample_rate=INPUT_SAMPLE_RATE,
        audio_out_sample_rate=OUTPUT_SAMPLE_RATE,
        audio_in_user_tracks=True,  # tagged per participant, so the candidate's can be picked out
    )
    transport = InterviewDailyTransport(
        room_url, token, bot_name, params=params, candidate_identity=candidate_identity, limits=limits
    )
    return TransportHandle(
        kind="daily",
        transport=transport,
        input_sample_rate=INPUT_SAMPLE_RATE,
        output_sample_rate=OUTPUT_SAMPLE_RATE,
        joined_event="on_candidate_joined",
        left_event="on_candidate_left",
        description=f"daily room {room_url}",
        after_input=(candidate_audio_filter(transport.gate),),
    )
