"""What a segmented recogniser tells the turn-stop strategy besides its transcripts."""

from __future__ import annotations

from dataclasses import dataclass

from pipecat.frames.frames import DataFrame


@dataclass
class SegmentWithoutWordsFrame(DataFrame):
    """A speech segment the recogniser heard no words in (a breath, a cough, noise).

    Pipecat's ``WhisperSTTService`` then yields nothing, so a turn-stop strategy waiting for
    that segment's transcript would wait out its whole safety timeout; this says "nothing
    is coming" (``services/local_stt.py`` sends it, ``turn_taking/interview_turn_stop.py`` reads it).
    """
