"""Daily room transport: the bot joins an existing room with a URL and token."""

from __future__ import annotations

from pipecat.transports.daily.transport import DailyParams, DailyTransport

from transports.common import TransportHandle

INPUT_SAMPLE_RATE = 16000
OUTPUT_SAMPLE_RATE = 24000


def create_daily_transport(room_url: str, token: str | None, bot_name: str = "Interviewer") -> TransportHandle:
    params = DailyParams(
        audio_in_enabled=True,
        audio_out_enabled=True,
        audio_in_sample_rate=INPUT_SAMPLE_RATE,
        audio_out_sample_rate=OUTPUT_SAMPLE_RATE,
    )
    return TransportHandle(
        kind="daily",
        transport=DailyTransport(room_url, token, bot_name, params=params),
        input_sample_rate=INPUT_SAMPLE_RATE,
        output_sample_rate=OUTPUT_SAMPLE_RATE,
        joined_event="on_first_participant_joined",
        left_event="on_participant_left",
        description=f"daily room {room_url}",
    )
