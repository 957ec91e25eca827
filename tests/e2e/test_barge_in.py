"""Barge-in through the real bot: real Silero, Whisper and Piper, the echo gate, a WebSocket client.

One short interview, talked over three ways during the interviewer's greeting (speech
generated with the candidate's Piper voice in the test):

1. a 250 ms "mm" (a backchannel) does not stop the interviewer;
2. a "yeah, okay" long enough to stop it, with nothing after it, is a false interruption: the
   interviewer says the sentence it was cut in again and goes on;
3. a real sentence stops it, and the reply answers that sentence instead of repeating the
   cut one; the record shows both cuts where they happened.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import numpy as np

from interview.interruptions import CUT_NOTE, sentences
from scripts.barge_in_caller import WebSocketBargeInCaller
from scripts.candidate_voice import default_candidate_synthesizer
from tests.e2e.conftest import one_question_interview, read_jsonl

BACKCHANNEL_SECS = 0.25
BARGE_IN = "Sorry, can I jump in? I actually built exactly that kind of system at my last company."


def short_backchannel(rate: int) -> bytes:
    """The candidate's "Mm.", cut to 250 ms with a fade-out (Piper's own takes ~0.5 s)."""
    pcm = np.frombuffer(default_candidate_synthesizer().synthesize("Mm.", rate), dtype="<i2").astype(np.float32)
    pcm = pcm[: int(BACKCHANNEL_SECS * rate)]
    pcm *= np.minimum(1.0, np.linspace(4.0, 0.0, pcm.size))
    return pcm.astype("<i2").tobytes()


class Candidate(WebSocketBargeInCaller):
    """The three moves, each timed from the interviewer's audio as the client hears it."""

    async def _converse(self) -> None:
        greeting = await self._wait_reply_start(since=-1.0)
        await asyncio.sleep(max(0.0, greeting + 1.5 - self.now()))
        self.backchannel_at = self.now()
        await self._say_pcm(short_backchannel(self.rate))
        await asyncio.sleep(1.5)  # an interruption would have come by now

        self.false_at = self.now()
        await self._say("Yeah, okay.")  # stops it (1 s), but is no answer
        resumed = await self._wait_reply_start(since=self.now() + 0.3)
        await asyncio.sleep(max(0.0, resumed + 1.0 - self.now()))

        self.barge_in_at = self.now()
        await self._say(BARGE_IN)
        await self._wait_interviewer_done(since=self._last_speech_sent)


async def test_backchannel_false_interruption_and_barge_in(tmp_path: Path, start_bot) -> None:
    config = tmp_path / "interview.json"
    config.write_text(json.dumps(one_question_interview("barge_in")))
    bot = start_bot("--config", str(config))
    url = bot.wait_ready()
    candidate = Candidate(url, default_candidate_synthesizer(), echo_db=None)
    report = await candidate.run(timeout=120)
    assert not report.error, report.error

    # 1. The backchannel did not stop the interviewer.
    assert not [t for t in candidate.interruptions if candidate.backchannel_at <= t < candidate.false_at]
    # 2. The "mm-hm" did, and the interviewer resumed from the sentence it cut.
    assert [t for t in candidate.interruptions if candidate.false_at <= t < candidate.barge_in_at]
    # 3. So did the real sentence.
    assert [t for t in candidate.interruptions if t >= candidate.barge_in_at]

    bot.wait_exit(timeout=60)
    record = bot.record_dir()
    lines = [x for x in read_jsonl(record / "transcript.jsonl") if x["speaker"] == "interviewer"]
    cut = [x for x in lines if x.get("interrupted")]
    assert len(cut) == 2 and all(x["text"].endswith(CUT_NOTE) for x in cut), lines
    greeting_cut, resumed_cut = cut
    cut_sentence = sentences(greeting_cut["text"].removesuffix(CUT_NOTE))[-1].rstrip("— ")
    resumed_line = resumed_cut["text"]
    assert resumed_line.startswith(cut_sentence), (cut_sentence, resumed_line)  # said again, from the cut

    candidate_lines = [x["text"] for x in read_jsonl(record / "transcript.jsonl") if x["speaker"] == "candidate"]
    # The barge-in was heard from its first word (Whisper hears "jump in" as "jumped in" at times).
    assert any(x.lower().startswith("sorry") for x in candidate_lines), candidate_lines
    after = lines[lines.index(resumed_cut) + 1 :]
    assert after, "the interviewer said nothing after the barge-in"
    second_cut = sentences(resumed_line.removesuffix(CUT_NOTE))[-1].rstrip("— ")
    assert not any(x["text"].startswith(second_cut) for x in after), after  # not repeated

    events = read_jsonl(record / "events.jsonl")
    assert len([e for e in events if e["type"] == "interviewer_cut"]) == 2
