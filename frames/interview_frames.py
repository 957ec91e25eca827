"""The frames this application adds to Pipecat's: the shared vocabulary of its processors.

One module, as Pipecat keeps its own in ``pipecat.frames.frames``, so a producer and its readers
(often in different rooms) name the same class without importing each other. Imports Pipecat only.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipecat.frames.frames import DataFrame, SystemFrame


@dataclass
class AnswerResumedFrame(SystemFrame):
    """The candidate resumed the answer the interviewer had begun to reply to.

    Pushed both ways by ``processors/resumed_answer.py``; read by the turn-stop strategy, the
    latency tracker, the interrupted-reply processor and the local interviewer.
    """

    previous_answer: str = ""
    pause_secs: float = 0.0  # silence from the end of the answer's last word to the new speech
    interviewer_spoke_secs: float = 0.0  # how long the reply had been playing (0: not yet)


@dataclass
class SegmentWithoutWordsFrame(DataFrame):
    """A speech segment the recogniser heard no words in (a breath, a cough, noise).

    Pipecat's ``WhisperSTTService`` then yields nothing, so a turn-stop strategy waiting for
    that segment's transcript would wait out its whole safety timeout; this says "nothing
    is coming" (``services/local_stt.py`` sends it, ``turn_taking/interview_turn_stop.py`` reads it).
    """


class GoodbyeProbeFrame(DataFrame):
    """Sent downstream by ``transports/twilio_marks.EndAfterPlayback``; reaches the output side after the goodbye's audio."""
