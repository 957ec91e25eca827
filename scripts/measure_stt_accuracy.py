"""Word accuracy and finalisation latency of the embedded STT (offline, no keys).

Why: pocketsphinx is only usable here with a language model adapted to the
interview; this script shows by how much, on espeak speech, for
  * answers taken from the interview text (rubric example answers), and
  * on-topic answers that are NOT in the interview text (the honest number),
with the general en-us LM ("default") vs the adapted LM, at 16 kHz and 8 kHz
(telephony; resampled to 16 kHz inside the service). Latency is measured from
the VAD stop frame (sent upstream, as the user aggregator does) to the final
TranscriptionFrame leaving the service.

Run: .venv/bin/python scripts/measure_stt_accuracy.py
"""

from __future__ import annotations

import asyncio
import re
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipecat.frames.frames import (  # noqa: E402
    EndFrame,
    Frame,
    InputAudioRawFrame,
    TranscriptionFrame,
    VADUserStartedSpeakingFrame,
    VADUserStoppedSpeakingFrame,
)
from pipecat.pipeline.pipeline import Pipeline  # noqa: E402
from pipecat.pipeline.worker import PipelineParams, PipelineWorker  # noqa: E402
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor  # noqa: E402
from pipecat.workers.runner import WorkerRunner  # noqa: E402

from interview.loader import load_interview_config  # noqa: E402
from services.espeak import EspeakSynthesizer  # noqa: E402
from services.local_stt import PocketsphinxSTTService  # noqa: E402

INTERVIEW = "senior_backend_engineer"

# On-topic answers for the senior backend interview, written without copying the
# interview text: about half their words never occur in it.
UNSEEN_ANSWERS = [
    "I built the order service for a food delivery company using Python and PostgreSQL.",
    "We store an idempotency key for every request so a retry never charges the customer twice.",
    "When the database fails halfway through, the transaction rolls back and the client retries with the same key.",
    "To scale to ten times the traffic I would add read replicas and partition the payments table by merchant.",
    "The first thing to break would be the connection pool, and we would see it in the latency graphs.",
    "The hardest bug I found was a race condition between two workers that processed the same message.",
    "I added a lock around the update and wrote a regression test that runs both workers at once.",
    "I test the business rules with unit tests and the database code with integration tests.",
    "One test caught a rounding error in the currency conversion before it reached production.",
    "I would put a queue in front of the payment provider so slow responses do not block the checkout.",
    "We use Kafka to publish events and a consumer updates the ledger.",
    "How does the team handle incidents and what does the on call rotation look like?",
    "I spent the last three years working on a billing platform for a large online retailer.",
    "My own part was the reconciliation job that compares our ledger with the bank statements.",
    "We cache the exchange rates for one minute to reduce the load on the upstream service.",
    "If a shard goes down, the other shards keep serving traffic while we fail over to a replica.",
    "I profile the slow endpoints first and then add an index where the query plan shows a full scan.",
    "We monitor error rates and alert when the number of stuck payments grows.",
    "I prefer small pull requests with clear descriptions so reviews are fast.",
    "Could you tell me more about how the team decides what to build next?",
]


def known_answers(interview: str = INTERVIEW) -> list[str]:
    """The rubric's example answers: sentences the interview text contains."""
    config = load_interview_config(interview)
    return [a.example_answer for area in config.rubric for a in area.anchors if a.example_answer]


def words(text: str) -> list[str]:
    return re.sub(r"[^a-z0-9' ]+", " ", text.lower().replace("-", " ")).split()


def word_errors(reference: str, hypothesis: str) -> tuple[int, int]:
    """(substitutions + deletions + insertions, reference length) by edit distance."""
    ref, hyp = words(reference), words(hypothesis)
    row = list(range(len(hyp) + 1))
    for i in range(1, len(ref) + 1):
        diagonal, row[0] = row[0], i
        for j in range(1, len(hyp) + 1):
            diagonal, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, diagonal + (ref[i - 1] != hyp[j - 1]))
    return row[len(hyp)], len(ref)


def word_accuracy(references: list[str], hypotheses: list[str]) -> float:
    """1 - WER over a whole set (can go below 0 with many insertions)."""
    errors = total = 0
    for ref, hyp in zip(references, hypotheses, strict=True):
        e, n = word_errors(ref, hyp)
        errors, total = errors + e, total + n
    return 1.0 - errors / max(total, 1)


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
    stt: PocketsphinxSTTService,
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
            await worker.queue_frame(
                VADUserStartedSpeakingFrame(start_secs=vad_start_secs), FrameDirection.UPSTREAM
            )
            await send_audio(pcm[head:] + silence(vad_stop_secs))
            stopped = time.perf_counter()
            await worker.queue_frame(
                VADUserStoppedSpeakingFrame(stop_secs=vad_stop_secs), FrameDirection.UPSTREAM
            )
            try:
                at, frame = await asyncio.wait_for(sink.transcripts.get(), timeout=5)
                results.append(Result(frame.text, (at - stopped) * 1000))
            except TimeoutError:
                results.append(Result("", float("nan")))
    finally:
        await worker.queue_frame(EndFrame())
        await run
    return results


def synthesize(texts: list[str], sample_rate: int) -> list[bytes]:
    synth = EspeakSynthesizer()  # en-us+klatt4, 150 wpm: what the simulated candidate uses
    return [synth.synthesize(t, sample_rate) for t in texts]


async def measure(vocabulary: str, texts: list[str], sample_rate: int) -> tuple[float, list[Result], float]:
    """(word accuracy, per-utterance results, real-time factor of the whole session)."""
    audio = synthesize(texts, sample_rate)
    started = time.perf_counter()
    results = await transcribe_session(PocketsphinxSTTService(vocabulary), audio, sample_rate)
    rtf = (time.perf_counter() - started) / (sum(len(a) for a in audio) / 2 / sample_rate)
    return word_accuracy(texts, [r.text for r in results]), results, rtf


async def main() -> None:
    from loguru import logger

    logger.remove()
    logger.add(sys.stderr, level="WARNING")
    vocabulary = load_interview_config(INTERVIEW).vocabulary()
    known = known_answers()
    in_text = set(words(vocabulary))
    unseen_words = [w for t in UNSEEN_ANSWERS for w in words(t)]
    coverage = sum(w in in_text for w in unseen_words) / len(unseen_words)
    print(f"interview: {INTERVIEW}; unseen answers: {len(UNSEEN_ANSWERS)} "
          f"({len(unseen_words)} words, {coverage:.0%} of them occur in the interview text)")
    print("word accuracy = 1 - WER; latency = VAD stop frame -> final TranscriptionFrame; "
          "RTF = session wall time / audio time (streamed as fast as decoded)")
    print(f"{'LM':8} {'rate':>6} {'known answers':>14} {'unseen answers':>15} {'latency median/p95':>20} {'RTF':>5}")
    for rate in (16000, 8000):
        for label, text in (("default", ""), ("adapted", vocabulary)):
            acc_known, r1, rtf1 = await measure(text, known, rate)
            acc_unseen, r2, rtf2 = await measure(text, UNSEEN_ANSWERS, rate)
            lat = sorted(r.latency_ms for r in r1 + r2 if r.latency_ms == r.latency_ms)
            p95 = lat[min(len(lat) - 1, round(0.95 * (len(lat) - 1)))]
            print(f"{label:8} {rate:>6} {acc_known:>14.1%} {acc_unseen:>15.1%} "
                  f"{statistics.median(lat):>11.1f} / {p95:.1f} ms {(rtf1 + rtf2) / 2:>5.2f}", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
