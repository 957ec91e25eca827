"""Many cheap simulated candidates in one process, for the load benchmark (scripts/bench_load.py).

Why not scripts/candidate_client.py: it records both sides, models a speaker in detail and
synthesises its voice per process; forty of those would make the client the bottleneck.
Here the answers are pre-rendered PCM files (rendered once by the benchmark), every 20 ms
microphone frame is protobuf-encoded once per process, and one clock sends every
candidate's frame each tick (one wake-up per 20 ms for the whole process, not one per
candidate). What each candidate measures:

- reply time: from the last answer frame sent to the first audible interviewer frame after it;
- unanswered: no audible reply within `turn_timeout` (the candidate then hangs up);
- late frames: interviewer audio arriving after the candidate's playback buffer ran dry by more
  than LATE_MS inside one reply (an audible gap; the bot sends ahead of real time, so a
  healthy bot never starves the listener).

    python -m scripts.load_candidate --url ws://127.0.0.1:8765/ws --audio-dir DIR --count 20

prints one JSON line per candidate when all are done, then a `{"client": ...}` line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from websockets.exceptions import ConnectionClosed

from scripts.candidate_audio import CHUNK_BYTES, CHUNK_SECONDS, MIC_SAMPLE_RATE, is_audible
from scripts.candidate_protocol import BotAudio, BotMessage, decode, encode_audio, encode_message, rtvi_client_ready
from scripts.candidate_protocol import open_connection as open_socket

LATE_MS = 40.0  # a gap the listener hears: two frames' worth of starvation
QUIET_SECS = 1.0  # interviewer done: its audio played out and this long silent


@dataclass
class CandidateResult:
    """What one candidate saw; `latencies_ms` has one entry per answered turn."""

    index: int
    answers_sent: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    unanswered: int = 0
    reply_frames: int = 0
    late_frames: int = 0
    late_ms_total: float = 0.0
    closed_by_server: bool = False
    error: str | None = None
    seconds: float = 0.0


class Microphone:
    """One candidate's outgoing frames: pre-encoded answer frames queued, silence otherwise."""

    def __init__(self, silence: bytes) -> None:
        self.silence = silence
        self.queue: list[bytes] = []
        self.position = 0
        self.last_speech_sent = 0.0
        self.done = asyncio.Event()
        self.done.set()

    def say(self, frames: list[bytes]) -> None:
        self.queue, self.position = frames, 0
        self.done.clear()

    def next_frame(self, now: float) -> bytes:
        if self.position < len(self.queue):
            self.position += 1
            self.last_speech_sent = now
            if self.position == len(self.queue):
                self.done.set()
            return self.queue[self.position - 1]
        return self.silence


class LoadCandidate:
    """One connection: greeting, then each answer after the interviewer has been quiet, replies timed."""

    def __init__(self, index: int, url: str, answers: list[list[bytes]], mic: Microphone, options: argparse.Namespace):
        self.result = CandidateResult(index)
        self.url, self.answers, self.mic, self.options = url, answers, mic, options
        self.ws: Any = None
        self.play_end = 0.0  # when the playback buffer runs dry
        self.last_audible = -1.0
        self.in_reply = False
        self.bot_speaking = False

    async def run(self) -> CandidateResult:
        start = time.monotonic()
        try:
            self.ws = await open_socket(self.url)
            await self.ws.send(encode_message(rtvi_client_ready()))
            listener = asyncio.create_task(self._listen())
            try:
                await self._converse()
            finally:
                listener.cancel()
                await self._hang_up()
        except Exception as exc:  # one candidate's failure is a result, not the benchmark's crash
            self.result.error = f"{type(exc).__name__}: {exc}"[:200]
        self.result.seconds = round(time.monotonic() - start, 2)
        return self.result

    async def _converse(self) -> None:
        o = self.options
        if not await self._wait_audio_after(0.0, o.turn_timeout):
            self.result.unanswered += 1  # not even a greeting
            return
        for k in range(o.answers):
            await self._wait_quiet()
            if self.ws.close_code is not None:
                return
            await asyncio.sleep(o.think)
            self.in_reply = False
            self.mic.say(self.answers[k % len(self.answers)])
            await self.mic.done.wait()
            self.result.answers_sent += 1
            ended = self.mic.last_speech_sent
            if not await self._wait_audio_after(ended, o.turn_timeout):
                self.result.unanswered += 1
                return
            self.result.latencies_ms.append(round((self.last_audible - ended) * 1000, 1))
        await self._wait_quiet()
        try:  # the interviewer ends the interview after the last answer
            await asyncio.wait_for(self.ws.wait_closed(), o.close_wait)
        except TimeoutError:
            pass

    async def _wait_audio_after(self, since: float, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while self.last_audible <= since:
            if time.monotonic() > deadline or self.ws.close_code is not None:
                return False
            await asyncio.sleep(0.02)
        return True

    async def _wait_quiet(self) -> None:
        deadline = time.monotonic() + self.options.turn_timeout * 3
        while time.monotonic() < deadline and self.ws.close_code is None:
            now = time.monotonic()
            if not self.bot_speaking and now - max(self.play_end, self.last_audible) >= QUIET_SECS:
                return
            await asyncio.sleep(0.05)

    async def _listen(self) -> None:
        try:
            async for payload in self.ws:
                event = decode(payload)
                if isinstance(event, BotAudio):
                    self._on_audio(event)
                elif isinstance(event, BotMessage) and event.rtvi_type in (
                    "bot-started-speaking",
                    "bot-stopped-speaking",
                ):
                    self.bot_speaking = event.rtvi_type == "bot-started-speaking"
        except ConnectionClosed:
            pass
        finally:
            self.result.closed_by_server = self.ws.protocol.close_rcvd is not None and self.ws.close_code in (
                1000,
                1001,
            )

    def _on_audio(self, audio: BotAudio) -> None:
        now = time.monotonic()
        if not is_audible(audio.pcm):
            self.play_end = max(self.play_end, now) + audio.duration
            return
        if self.in_reply:
            self.result.reply_frames += 1
            starved_ms = (now - self.play_end) * 1000
            if starved_ms > LATE_MS:
                self.result.late_frames += 1
                self.result.late_ms_total += starved_ms
        self.in_reply = True
        self.play_end = max(self.play_end, now) + audio.duration
        self.last_audible = now

    async def _hang_up(self) -> None:
        if self.ws is not None and self.ws.close_code is None:
            try:
                await asyncio.wait_for(self.ws.close(1000, "candidate done"), 5.0)
            except Exception:
                pass


def load_answers(directory: Path) -> list[list[bytes]]:
    """`answer_*.pcm` (16 kHz mono int16), in name order, each as encoded 20 ms frames."""
    answers = []
    for path in sorted(directory.glob("answer_*.pcm")):
        pcm = path.read_bytes()
        pcm += bytes(-len(pcm) % CHUNK_BYTES)
        answers.append(
            [encode_audio(pcm[i : i + CHUNK_BYTES], MIC_SAMPLE_RATE) for i in range(0, len(pcm), CHUNK_BYTES)]
        )
    if not answers:
        raise SystemExit(f"no answer_*.pcm in {directory}")
    return answers


async def clock(candidates: list[LoadCandidate], lateness: list[float]) -> None:
    """Every 20 ms, on an absolute schedule, send each connected candidate's next frame."""
    start, tick = time.monotonic(), 0
    while True:
        tick += 1
        delay = start + tick * CHUNK_SECONDS - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        now = time.monotonic()
        lateness.append(max(0.0, -delay * 1000))
        for c in candidates:
            if c.ws is not None and c.ws.close_code is None:
                try:
                    await c.ws.send(c.mic.next_frame(now))
                except ConnectionClosed:
                    pass


async def run_all(options: argparse.Namespace) -> tuple[list[CandidateResult], list[float]]:
    answers = load_answers(options.audio_dir)
    silence = encode_audio(bytes(CHUNK_BYTES), MIC_SAMPLE_RATE)
    candidates = [
        LoadCandidate(options.first_index + i, options.url, answers, Microphone(silence), options)
        for i in range(options.count)
    ]
    lateness: list[float] = []
    ticker = asyncio.create_task(clock(candidates, lateness))

    async def staggered(i: int, c: LoadCandidate) -> CandidateResult:
        await asyncio.sleep(i * options.stagger)
        return await c.run()

    try:
        results = await asyncio.wait_for(
            asyncio.gather(*(staggered(i, c) for i, c in enumerate(candidates))), options.max_seconds
        )
    except TimeoutError:
        results = [c.result for c in candidates]
        for r in results:
            r.error = r.error or f"client timed out after {options.max_seconds:g} s"
    ticker.cancel()
    return list(results), lateness


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description="Many cheap simulated candidates on one process.")
    p.add_argument("--url", required=True)
    p.add_argument("--audio-dir", type=Path, required=True, help="answer_*.pcm, 16 kHz mono int16")
    p.add_argument("--count", type=int, default=1)
    p.add_argument("--first-index", type=int, default=0)
    p.add_argument("--answers", type=int, default=4, help="answers per interview")
    p.add_argument("--think", type=float, default=0.5, help="seconds between the interviewer's end and an answer")
    p.add_argument("--stagger", type=float, default=0.1, help="seconds between candidates joining")
    p.add_argument("--turn-timeout", type=float, default=20.0, help="seconds to wait for a reply before giving up")
    p.add_argument("--close-wait", type=float, default=10.0, help="seconds to wait for the interviewer to end")
    p.add_argument("--max-seconds", type=float, default=600.0)
    options = p.parse_args(argv)
    results, lateness = asyncio.run(run_all(options))
    for r in results:
        print(json.dumps(asdict(r)))
    lateness.sort()
    p99 = lateness[min(len(lateness) - 1, int(0.99 * len(lateness)))] if lateness else 0.0
    print(json.dumps({"client": {"ticks": len(lateness), "tick_late_p99_ms": round(p99, 1),
                                 "tick_late_max_ms": round(max(lateness, default=0.0), 1)}}), flush=True)  # fmt: skip
    sys.stdout.flush()


if __name__ == "__main__":
    main()
