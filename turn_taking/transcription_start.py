"""A user turn started by a transcript the VAD did not hear, except a backchannel while the interviewer speaks.

What Pipecat 1.14 lacks: its ``TranscriptionUserTurnStartStrategy`` (the fallback when VAD
misses soft speech) starts a turn, and so interrupts the bot, on any transcript:

* "mm-hm" included; streaming recognisers (Deepgram) send one for a short acknowledgement
  the echo gate let through. ``MinWordsUserTurnStartStrategy`` counts words rather than
  telling an acknowledgement from an answer ("No." is one word), and resets the user
  aggregation on every shorter transcript while the bot speaks, which would drop an answer
  in progress when the interviewer says its own listening cue. Here transcripts that are
  nothing but acknowledgements (``interview.interruptions.is_backchannel``) while the bot
  is speaking are skipped, and the aggregation is left alone.
* a *late* transcript of speech the VAD did hear. The VAD already started (and a stop
  strategy may already have ended) that turn; when the recogniser is slow (Whisper queued
  behind another segment on a busy machine: 2.4 s for "OK." was seen), the transcript lands
  after the turn ended, just as the interviewer starts its reply, and Pipecat's strategy
  takes it for new speech: it interrupts the reply to words said before it began. Here a
  transcript within ``heard_speech_secs`` of the VAD's last speech end is that speech's
  (its words join the aggregation, as Pipecat does with any transcript between turns).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from pipecat.frames.frames import (
    BotStartedSpeakingFrame,
    BotStoppedSpeakingFrame,
    Frame,
    InterimTranscriptionFrame,
    STTMetadataFrame,
    TranscriptionFrame,
    VADUserStoppedSpeakingFrame,
)
from pipecat.turns.types import ProcessFrameResult
from pipecat.turns.user_start.transcription_user_turn_start_strategy import TranscriptionUserTurnStartStrategy

from interview.interruptions import is_backchannel

HEARD_SPEECH_SECS = 5.0  # a transcript this soon after the VAD's speech end is taken to be that speech's
SLOW_STT_FACTOR = 3.0  # ... or within this many times the recogniser's own p99, if that is longer


class TranscriptionStartUnlessBackchannel(TranscriptionUserTurnStartStrategy):
    """Pipecat's transcription start strategy, deaf to "mm-hm" while the bot speaks and to late transcripts."""

    def __init__(
        self,
        *,
        heard_speech_secs: float = HEARD_SPEECH_SECS,
        clock: Callable[[], float] = time.monotonic,
        **kwargs: object,
    ) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._heard_speech_secs = heard_speech_secs
        self._clock = clock
        self._bot_speaking = False
        self._vad_stopped_at: float | None = None

    async def process_frame(self, frame: Frame) -> ProcessFrameResult:
        if isinstance(frame, BotStartedSpeakingFrame):
            self._bot_speaking = True
        elif isinstance(frame, BotStoppedSpeakingFrame):
            self._bot_speaking = False
        elif isinstance(frame, VADUserStoppedSpeakingFrame):
            self._vad_stopped_at = self._clock()
        elif isinstance(frame, STTMetadataFrame):
            self._heard_speech_secs = max(self._heard_speech_secs, SLOW_STT_FACTOR * frame.ttfs_p99_latency)
        elif isinstance(frame, (TranscriptionFrame, InterimTranscriptionFrame)) and (
            self._of_speech_the_vad_heard() or (self._bot_speaking and is_backchannel(frame.text))
        ):
            return ProcessFrameResult.CONTINUE
        return await super().process_frame(frame)

    def _of_speech_the_vad_heard(self) -> bool:
        """The VAD heard speech end moments ago: this transcript is of that speech, whose turn the VAD started."""
        return self._vad_stopped_at is not None and self._clock() - self._vad_stopped_at <= self._heard_speech_secs
