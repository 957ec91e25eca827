"""A user turn started by a transcript, except a backchannel while the interviewer speaks.

What Pipecat 1.14 lacks: its ``TranscriptionUserTurnStartStrategy`` (the fallback when VAD
misses soft speech) starts a turn, and so interrupts the bot, on any transcript, "mm-hm"
included; streaming recognisers (Deepgram) send one for a short acknowledgement the echo
gate let through. ``MinWordsUserTurnStartStrategy`` counts words rather than telling an
acknowledgement from an answer ("No." is one word), and resets the user aggregation on
every shorter transcript while the bot speaks, which would drop an answer in progress
when the interviewer says its own listening cue. This strategy skips only transcripts
that are nothing but acknowledgements (``interview.interruptions.is_backchannel``) while
the bot is speaking, and leaves the aggregation alone.
"""

from __future__ import annotations

from pipecat.frames.frames import BotStartedSpeakingFrame, BotStoppedSpeakingFrame, Frame, InterimTranscriptionFrame, TranscriptionFrame
from pipecat.turns.types import ProcessFrameResult
from pipecat.turns.user_start.transcription_user_turn_start_strategy import TranscriptionUserTurnStartStrategy

from interview.interruptions import is_backchannel


class TranscriptionStartUnlessBackchannel(TranscriptionUserTurnStartStrategy):
    """Pipecat's transcription start strategy, deaf to "mm-hm" / "yeah" while the bot speaks."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._bot_speaking = False

    async def process_frame(self, frame: Frame) -> ProcessFrameResult:
        if isinstance(frame, BotStartedSpeakingFrame):
            self._bot_speaking = True
        elif isinstance(frame, BotStoppedSpeakingFrame):
            self._bot_speaking = False
        elif isinstance(frame, (TranscriptionFrame, InterimTranscriptionFrame)) and self._bot_speaking and is_backchannel(frame.text):
            return ProcessFrameResult.CONTINUE
        return await super().process_frame(frame)
