"""Drive a fresh bot with a recorded candidate: the bot as users start it, the answers in real time.

The bot is `bot.py --transport websocket --port 0 --once --config <the record's interview>` with
the caller's environment (today's build as configured; SESSIONS_DIR pointed at the output folder).
The candidate is `scripts.socket_candidate.Candidate`: a real-time microphone on one WebSocket that
sends silence between answers and counts the interviewer's turns from RTVI speaking events.

Each answer starts once the interviewer has finished its turn: it spoke after the previous answer
ended (or was speaking at its end) and then stayed quiet for as long as the candidate waited in the
original (clamped to MIN_QUIET..MAX_QUIET, so a pause between an acknowledgement and the next question
is not taken for the turn's end). An answer's audio is the original's, pauses included.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from regression.replay_answers import RecordedAnswer, SessionRecordView
from regression.replay_audio import MERGE_GAP, Segment
from scripts.candidate_audio import SpeakerModel, is_audible
from scripts.candidate_protocol import BotAudio, BotInterruption, CandidateConnectionError, ServerEvent
from scripts.socket_candidate import RATE, Candidate

ROOT = Path(__file__).resolve().parents[1]
LISTENING = re.compile(r"listening on (ws://\S+)")
RECORD_LINE = re.compile(r"Session record: (\S+)")
MIN_QUIET, MAX_QUIET = 1.0, 5.0  # seconds of interviewer silence that end its turn
START_TIMEOUT = 120.0  # the bot's first start loads its models
REPLY_TIMEOUT = 60.0  # no interviewer speech this long after an answer: go on without a reply
CLOSE_TIMEOUT = 60.0  # after the last answer: the interviewer closes the session itself, or the candidate leaves
EXIT_TIMEOUT = 90.0  # the bot writes its evaluation after the session


class ReplayFailed(RuntimeError):
    """The replay could not run (the bot did not start, crashed, or wrote no record); one line."""


@dataclass(frozen=True)
class PlayedAnswer:
    index: int
    speech: Segment  # seconds since the candidate connected: the answer's first to last speech as sent


@dataclass(frozen=True)
class ReplayRun:
    record: Path  # the new session's record folder
    played: list[PlayedAnswer]
    interviewer: list[Segment]  # when the interviewer's speech played at the candidate's end (same clock)
    ended_early: bool  # the interviewer closed the session before every answer was played


class BotProcess:
    """One bot child; its output kept for the record line and for a failure's last words."""

    def __init__(self, config: Path, env: dict[str, str]) -> None:
        command = [sys.executable, str(ROOT / "bot.py"), "--transport", "websocket", "--port", "0", "--once",
                   "--config", str(config)]  # fmt: skip
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self.output: list[str] = []
        self.url: str | None = None
        self._listening = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line.rstrip()[:2000])
            del self.output[:-400]
            if self.url is None and (match := LISTENING.search(line)):
                self.url = match.group(1)
                self._listening.set()
        self._listening.set()

    def wait_listening(self, timeout: float) -> str:
        self._listening.wait(timeout)
        if self.url is None:
            raise ReplayFailed(f"the bot did not start: {self.last_words()}")
        return self.url

    def wait_record(self, timeout: float) -> Path:
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise ReplayFailed(f"the bot did not exit {timeout:g} s after the session") from None
        time.sleep(0.1)  # the reader drains the last lines
        for line in reversed(self.output):
            if match := RECORD_LINE.search(line):
                return Path(match.group(1))
        raise ReplayFailed(f"the bot wrote no session record (exit {self.process.returncode}): {self.last_words()}")

    def last_words(self) -> str:
        return next((line for line in reversed(self.output) if line.strip()), "no output")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()


class _Interviewer:
    """The interviewer as the candidate hears it: its audio played back to back on a modelled speaker.

    Why not RTVI's bot-stopped-speaking alone: the server sends audio faster than real time, so that
    event comes while the candidate still has seconds of the question to hear (an answer started then
    talks over the question, and the echo gate may mute it).
    """

    def __init__(self, candidate: Candidate, began: float) -> None:
        self.candidate = candidate
        self.began = began
        self.speaker = SpeakerModel()
        self._played: list[list[float]] = []  # [start, end] seconds since `began`, gaps under MERGE_GAP joined
        candidate.on_event = self._heard

    def _heard(self, event: ServerEvent) -> None:
        now = time.monotonic()
        if isinstance(event, BotAudio):
            audible = is_audible(event.pcm)
            start = self.speaker.schedule(now, event.duration, audible) - self.began
            if not audible:
                return
            if self._played and start - self._played[-1][1] < MERGE_GAP:
                self._played[-1][1] = start + event.duration
            else:
                self._played.append([start, start + event.duration])
        elif isinstance(event, BotInterruption):
            self.speaker.flush(now)
            if self._played:
                self._played[-1][1] = min(self._played[-1][1], now - self.began)

    @property
    def played(self) -> list[Segment]:
        return [Segment(round(s, 3), round(e, 3)) for s, e in self._played if e > s]

    @property
    def gone(self) -> bool:
        return self.candidate.close_code is not None

    async def turn_over(self, after: float, quiet: float, timeout: float) -> bool:
        """Interviewer speech played after `after` (monotonic) and then `quiet` s of silence; False on timeout/close."""
        deadline = time.monotonic() + timeout
        spoke = False
        while time.monotonic() < deadline and not self.gone:
            now = time.monotonic()
            spoke = spoke or self.speaker.audible_until > after
            if spoke and not self.candidate.bot_speaking and self.speaker.quiet_for(now) >= quiet:
                return True
            await asyncio.sleep(0.02)
        return False


def _quiet_for(answer: RecordedAnswer) -> float:
    return min(MAX_QUIET, max(MIN_QUIET, answer.lead_in))


async def replay(
    source: SessionRecordView,
    answers: list[RecordedAnswer],
    config: Path,
    env: dict[str, str],
    say: Callable[[str], None],
) -> ReplayRun:
    """Play `answers` into a fresh bot started with `config`; the new record and when each answer was played."""
    bot = BotProcess(config, env)
    try:
        url = await asyncio.to_thread(bot.wait_listening, START_TIMEOUT)
        candidate = Candidate(url)
        try:
            await candidate.connect()
        except CandidateConnectionError as exc:
            raise ReplayFailed(str(exc)) from None
        began = time.monotonic()
        interviewer = _Interviewer(candidate, began)
        played: list[PlayedAnswer] = []
        heard = await interviewer.turn_over(began, _quiet_for(answers[0]), REPLY_TIMEOUT)
        for answer in answers:
            if interviewer.gone:
                break
            if not heard:
                say(f"  answer {answer.index}: the interviewer said nothing for {REPLY_TIMEOUT:g} s; answering anyway")
            clip = answer.clip
            pcm = source.recording.candidate_pcm(clip.start, clip.end, RATE)
            sent = time.monotonic()
            candidate.say(pcm)
            speech_start = sent + (answer.speech.start - clip.start)
            speech_end = speech_start + (answer.speech.end - answer.speech.start)
            played.append(
                PlayedAnswer(answer.index, Segment(round(speech_start - began, 3), round(speech_end - began, 3)))
            )
            say(f"  answer {answer.index}/{len(answers)} ({answer.speech.end - answer.speech.start:.1f} s)")
            await asyncio.sleep(max(0.0, speech_end - time.monotonic()))
            following = answers[answer.index] if answer.index < len(answers) else None
            quiet = _quiet_for(following) if following is not None else MAX_QUIET
            # a reply cut short before the answer's end is not the turn: the reply after (or over) the end is
            heard = await interviewer.turn_over(speech_end, quiet, REPLY_TIMEOUT)
        for _ in range(int(CLOSE_TIMEOUT * 10)):  # the interviewer closes the session after its goodbye
            if interviewer.gone:
                break
            await asyncio.sleep(0.1)
        if not interviewer.gone:
            await candidate.end()
        ended_early = len(played) < len(answers)
        record = await asyncio.to_thread(bot.wait_record, EXIT_TIMEOUT)
        return ReplayRun(record, played, interviewer.played, ended_early)
    finally:
        bot.stop()
