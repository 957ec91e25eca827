"""Word accuracy and latency of the embedded STT (Whisper), per model and sample rate, in one run.

Why: the offline interview is only as good as what it hears. This script speaks a fixed set
of interview answers that are NOT taken from the interview configs (natural language:
numbers as people say them, product names) with the simulated candidate's Piper voice and
streams them through the real ``InterviewWhisperSTTService`` exactly as a pipeline does
(20 ms frames, VAD start/stop sent upstream as the user aggregator does), side by side:

  * Whisper tiny.en and base, with and without the interview-term prompt;
  * at 16 kHz (WebSocket / rooms) and over the phone path (G.711 mu-law at 8 kHz, which the
    service resamples to 16 kHz);
  * with Whisper's padded 30 s encoder window and with the short window cut to the answer
    (``services/whisper_short_window.py``, LOCAL_STT_SHORT_WINDOW).

Word accuracy = 1 - WER after writing numbers in words on both sides ("5-minute" ==
"five minute"). Latency = VAD stop frame -> final TranscriptionFrame (median / p95).

Run: .venv/bin/python scripts/measure_stt_accuracy.py [--models tiny.en base] [--windows full short] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipecat.audio.utils import create_stream_resampler, pcm_to_ulaw, ulaw_to_pcm
from pipecat.frames.frames import (
    EndFrame,
    Frame,
    InputAudioRawFrame,
    TranscriptionFrame,
    VADUserStartedSpeakingFrame,
    VADUserStoppedSpeakingFrame,
)
from pipecat.pipeline.pipeline import Pipeline
from pipecat.pipeline.worker import PipelineParams, PipelineWorker
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor
from pipecat.workers.runner import WorkerRunner

from interview.loader import load_interview_config
from interview.stt_prompt import stt_prompt
from scripts.candidate_voice import default_candidate_synthesizer
from scripts.word_accuracy import word_accuracy, word_errors, words
from services.local_models import LOCAL_MODELS, WhisperOptions
from services.local_stt import InterviewWhisperSTTService

INTERVIEW = "senior_backend_engineer"
PHONE_RATE = 8000
WIDE_RATE = 16000

# Answers a senior backend candidate might give, written for this script (not copied from
# the interview text), the way people say them.
ANSWERS = [
    "I spent the last three years on the billing platform at a big online retailer, mostly in Python and Go.",
    "Every request carries an idempotency key, so if the client retries we return the first result instead of charging twice.",
    "When the database fails halfway through, the whole transaction rolls back and the client retries with the same key.",
    "To handle ten times the traffic I'd add read replicas and shard the payments table by merchant.",
    "Honestly, the first thing to break would be the connection pool, and you'd see it in the p ninety nine latency.",
    "The nastiest bug was a race condition where two workers picked up the same Kafka message.",
    "We fixed it with a unique constraint in Postgres instead of a lock, and I wrote a regression test for it.",
    "I unit test the business rules and run integration tests against a real database in Docker.",
    "One test caught a rounding error in the currency conversion about a week before the launch.",
    "I'd put a queue in front of the payment provider so a slow response doesn't block checkout.",
    "We cache the exchange rates in Redis for five minutes, which cut the load on that service by about eighty percent.",
    "If one shard goes down, the others keep serving while we fail over to a replica.",
    "I usually profile the slow endpoints first and add an index where the query plan shows a full table scan.",
    "We page the on-call engineer when the number of stuck payments grows past fifty.",
    "I like small pull requests with a clear description, so reviews take minutes rather than days.",
    "Um, so, what does the on-call rotation look like for the platform team?",
    "We ran everything on Kubernetes, with about forty services and a shared Postgres cluster.",
    "The write path goes to the primary, and reads for the dashboard come from the replicas.",
    "I'd say our uptime was around ninety nine point nine percent over the last year.",
    "That answers my questions, thanks a lot for your time today.",
]


@dataclass
class Result:
    text: str
    latency_ms: float  # VAD stop (upstream) -> final TranscriptionFrame downstream


class _Sink(FrameProcessor):
    """End of the test pipeline: counts audio that got through, catches transcripts."""

    def __init__(self) -> None:
        super().__init__()
        self.audio_frames = 0
        self.transcripts: asyncio.Queue[tuple[float, TranscriptionFrame]] = asyncio.Queue()

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if isinstance(frame, InputAudioRawFrame):
            self.audio_frames += 1
        elif isinstance(frame, TranscriptionFrame):
            self.transcripts.put_nowait((time.perf_counter(), frame))
            return
        await self.push_frame(frame, direction)


async def transcribe_session(
    stt: FrameProcessor,
    utterances: list[bytes],
    sample_rate: int,
    *,
    chunk_ms: int = 20,
    vad_start_secs: float = 0.2,
    vad_stop_secs: float = 0.2,
) -> list[Result]:
    """Stream utterances through ``stt`` in one session, the way a pipeline would.

    Audio goes downstream in ``chunk_ms`` frames; VAD start/stop go UPSTREAM into
    the service once the audio they refer to has passed it (the VAD sits in the
    user aggregator, after the STT): start after ``vad_start_secs`` of speech,
    stop after ``vad_stop_secs`` of trailing silence.
    """
    sink = _Sink()
    worker = PipelineWorker(
        Pipeline([stt, sink]),
        params=PipelineParams(audio_in_sample_rate=sample_rate),
        cancel_on_idle_timeout=False,
        enable_rtvi=False,
    )
    started = asyncio.Event()

    @worker.event_handler("on_pipeline_started")
    async def _on_started(_worker, _frame):
        started.set()

    runner = WorkerRunner(handle_sigint=False)
    await runner.add_workers(worker)
    run = asyncio.create_task(runner.run())
    await asyncio.wait_for(started.wait(), timeout=10)

    chunk = int(sample_rate * chunk_ms / 1000) * 2
    sent = 0

    async def send_audio(pcm: bytes) -> None:
        nonlocal sent
        for i in range(0, len(pcm), chunk):
            await worker.queue_frame(InputAudioRawFrame(pcm[i : i + chunk], sample_rate, 1))
            sent += 1
        deadline = time.perf_counter() + 30
        while sink.audio_frames < sent:  # until the STT has seen all of it
            if time.perf_counter() > deadline:
                raise RuntimeError(f"STT passed {sink.audio_frames} of {sent} audio frames")
            await asyncio.sleep(0.001)

    def silence(secs: float) -> bytes:
        return bytes(int(sample_rate * secs) * 2)

    results: list[Result] = []
    try:
        for pcm in utterances:
            head = int(sample_rate * vad_start_secs) * 2
            await send_audio(silence(0.3) + pcm[:head])
            await worker.queue_frame(VADUserStartedSpeakingFrame(start_secs=vad_start_secs), FrameDirection.UPSTREAM)
            await send_audio(pcm[head:] + silence(vad_stop_secs))
            stopped = time.perf_counter()
            await worker.queue_frame(VADUserStoppedSpeakingFrame(stop_secs=vad_stop_secs), FrameDirection.UPSTREAM)
            try:
                at, frame = await asyncio.wait_for(sink.transcripts.get(), timeout=5)
                results.append(Result(frame.text, (at - stopped) * 1000))
            except TimeoutError:
                results.append(Result("", float("nan")))
    finally:
        await worker.queue_frame(EndFrame())
        await run
    return results


def synthesize(texts: list[str], sample_rate: int = WIDE_RATE) -> list[bytes]:
    """The candidate's voice at ``sample_rate`` (16-bit mono PCM)."""
    voice = default_candidate_synthesizer()
    return [voice.synthesize(t, sample_rate) for t in texts]


async def over_the_phone(utterances: list[bytes]) -> list[bytes]:
    """16 kHz PCM -> G.711 mu-law at 8 kHz -> 8 kHz PCM: what a Twilio call delivers."""
    down, up = create_stream_resampler(), create_stream_resampler()
    out = []
    for pcm in utterances:
        ulaw = await pcm_to_ulaw(pcm, WIDE_RATE, PHONE_RATE, down)
        out.append(await ulaw_to_pcm(ulaw, PHONE_RATE, PHONE_RATE, up))
    return out


@dataclass
class Row:
    model: str
    window: str
    prompt: bool
    rate: int
    accuracy: float
    latencies_ms: list[float]
    texts: list[str]


async def measure(model: str, window: str, prompt: str | None, audio: list[bytes], rate: int, texts: list[str]) -> Row:
    options = WhisperOptions(model=model, short_window=window == "short")
    stt = InterviewWhisperSTTService(model=LOCAL_MODELS.whisper(options), prompt=prompt)
    results = await transcribe_session(stt, audio, rate)
    hypotheses = [r.text for r in results]
    latencies = [r.latency_ms for r in results if r.latency_ms == r.latency_ms]
    return Row(model, window, prompt is not None, rate, word_accuracy(texts, hypotheses), latencies, hypotheses)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))] if ordered else float("nan")


async def run(models: list[str], windows: list[str], texts: list[str], show_errors: bool) -> list[Row]:
    prompt = stt_prompt(load_interview_config(INTERVIEW))
    wide = synthesize(texts)
    phone = await over_the_phone(wide)
    seconds = sum(len(a) for a in wide) / 2 / WIDE_RATE
    print(f"{len(texts)} answers ({sum(len(words(t)) for t in texts)} words, {seconds:.0f} s of Piper candidate speech); "
          f"prompt: {len(prompt.split())} words from the {INTERVIEW} config")  # fmt: skip
    print(f"{'model':8} {'window':>6} {'prompt':>6} {'audio':>16} {'word accuracy':>14} {'latency p50 / p95 (ms)':>24}")
    rows = []
    conditions = ((False, WIDE_RATE, wide), (True, WIDE_RATE, wide), (True, PHONE_RATE, phone))
    for model, window, (use_prompt, rate, audio) in itertools.product(models, windows, conditions):
        row = await measure(model, window, prompt if use_prompt else None, audio, rate, texts)
        rows.append(row)
        label = "16 kHz PCM" if rate == WIDE_RATE else "8 kHz mu-law"
        print(f"{model:8} {window:>6} {'yes' if use_prompt else 'no':>6} {label:>16} {row.accuracy:>14.1%} "
              f"{statistics.median(row.latencies_ms):>13.0f} / {p95(row.latencies_ms):.0f}", flush=True)  # fmt: skip
        if show_errors:
            for ref, hyp in zip(texts, row.texts, strict=True):
                if word_errors(ref, hyp)[0]:
                    print(f"    said: {ref}\n    got:  {hyp.strip()}")
    return rows


def main() -> None:
    from loguru import logger

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--models", nargs="+", default=["tiny.en", "base"], help="LOCAL_STT_MODEL values (default: %(default)s)"
    )
    parser.add_argument(
        "--windows",
        nargs="+",
        choices=["full", "short"],
        default=["full", "short"],
        help="Whisper encoder window: padded 30 s, or cut to the answer (default: both)",
    )
    parser.add_argument("--quick", action="store_true", help="the first 6 answers only")
    parser.add_argument("--errors", action="store_true", help="print every answer that was not heard exactly")
    args = parser.parse_args()
    logger.remove()
    logger.add(sys.stderr, level="WARNING")
    asyncio.run(run(args.models, args.windows, ANSWERS[:6] if args.quick else ANSWERS, args.errors))


if __name__ == "__main__":
    main()
