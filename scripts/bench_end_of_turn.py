"""End-of-turn signals on labelled answer prefixes, and the turn policy replayed on them (no real time).

For every answer of one half of the generated corpus (``scripts/turn_corpus.py``): each spoken
segment rendered in the answer's delivery style, transcribed by the bot's own Whisper one segment at
a time (as the pipeline hears it: one VAD segment each), Smart Turn scored on the audio up to each
pause, and the end-of-turn model on the text so far. Labels: every pause inside an answer is "not
finished", the answer's end "finished". Printed:

1. each signal alone on those prefixes — accuracy and false "finished" rate (a pause taken for an
   end): today's text rules, Smart Turn, the end-of-turn model, and the whole policy (verdict done);
2. the policy replayed answer by answer, in order, with this candidate's history as the strategy keeps
   it: at each pause the silence it allows against the pause's real length (shorter = a cut-off), per
   category and interview kind; at each real end the silence it waits (the endpointing share of the
   reply delay, before STT, LLM and TTS time).

Tune on ``--half dev``; report ``--half test``. Features (Whisper, Smart Turn) are cached per corpus
in ``--cache``: a rerun after a policy change takes seconds.

    .venv/bin/python scripts/bench_end_of_turn.py --half dev [--policy rules|model] [--details] [--latency]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import statistics
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from interview.config import InterviewTurnStop  # noqa: E402
from interview.loader import load_interview_config  # noqa: E402
from interview.turn_policy import PauseHistory, PauseInputs, decide  # noqa: E402
from interview.turn_signals import read_answer  # noqa: E402
from scripts.turn_corpus import CorpusAnswer, build_corpus, split  # noqa: E402

RATE = 16000
VAD_STOP_SECS = 0.2  # the pipeline decides this long after the last word
CONFIG_FOR_KIND = {"technical": "senior_backend_engineer", "research": "qualitative_research"}


@dataclass(frozen=True)
class Prefix:
    """The answer as the strategy sees it at one pause (or at its end)."""

    answer: CorpusAnswer
    index: int  # 0-based pause number; len(pauses) = the end
    text: str  # Whisper's transcript of the segments so far
    smart_turn: float
    log_p: float | None  # the end-of-turn model, or None when it was not run
    pause_secs: float | None  # the real silence that follows (None: the end)

    @property
    def finished(self) -> bool:
        return self.pause_secs is None


# -- features --------------------------------------------------------------------------------------


def spoken_runs(answer: CorpusAnswer) -> tuple[list[str], list[float]]:
    """What is said between pauses (consecutive sentences are one stretch of speech, one VAD segment), and the pauses."""
    runs: list[list[str]] = [[]]
    pauses: list[float] = []
    for segment in answer.segments:
        if isinstance(segment, str):
            runs[-1].append(segment)
        else:
            pauses.append(float(segment))
            runs.append([])
    return [" ".join(r) for r in runs if r], pauses


def _corpus_key(answers: list[CorpusAnswer]) -> str:
    blob = json.dumps(["runs-v2", *[(a.id, a.style, a.segments) for a in answers]])
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def audio_features(answers: list[CorpusAnswer], cache: Path) -> dict[str, list[dict[str, Any]]]:
    """Per answer id: per spoken segment, Whisper's text and Smart Turn's p at its end (cached)."""
    path = cache / f"eot-features-{_corpus_key(answers)}.json"
    if path.is_file():
        return json.loads(path.read_text())
    import numpy as np

    from scripts.candidate_voice import candidate_synthesizer
    from services.local_models import LOCAL_MODELS
    from services.local_stt import NO_SPEECH_THRESHOLD, whisper_options
    from settings import Settings
    from turn_taking.shared_smart_turn import SharedSmartTurnAnalyzer

    whisper = LOCAL_MODELS.whisper(whisper_options(Settings()))  # the bot's own model and options
    smart_turn = SharedSmartTurnAnalyzer(sample_rate=RATE)
    prompts = _stt_prompts()
    silence = np.zeros(int(VAD_STOP_SECS * RATE), dtype=np.float32)
    features: dict[str, list[dict[str, Any]]] = {}
    started = time.monotonic()
    for n, answer in enumerate(answers, 1):
        voice = candidate_synthesizer(answer.style)
        heard: list[np.ndarray] = []
        rows = []
        for said in spoken_runs(answer)[0]:
            pcm = np.frombuffer(voice.synthesize(said, RATE), dtype=np.int16).astype(np.float32) / 32768.0
            segments, _ = whisper.transcribe(pcm, language="en", initial_prompt=prompts[answer.interview])
            text = " ".join(s.text.strip() for s in segments if s.no_speech_prob < NO_SPEECH_THRESHOLD).strip()
            heard.append(pcm)
            audio = np.concatenate([*heard, silence])
            rows.append({"text": text, "smart_turn": float(smart_turn._predict_endpoint(audio)["probability"])})
        features[answer.id] = rows
        if n % 20 == 0:
            print(f"  features: {n}/{len(answers)} answers, {time.monotonic() - started:.0f} s", file=sys.stderr)
    cache.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(features))
    return features


def _stt_prompts() -> dict[str, str]:
    from interview.stt_prompt import stt_prompt

    return {kind: stt_prompt(load_interview_config(name)) for kind, name in CONFIG_FOR_KIND.items()}


def prefixes(answers: list[CorpusAnswer], features: dict[str, list[dict[str, Any]]], model: bool) -> list[Prefix]:
    """Every labelled prefix, with the end-of-turn model's log P when ``model``."""
    scorer = None
    if model:
        from turn_taking.end_of_turn_model import shared_end_of_turn_scorer

        scorer = shared_end_of_turn_scorer()
    out: list[Prefix] = []
    for answer in answers:
        pauses = spoken_runs(answer)[1]
        text = ""
        for i, row in enumerate(features[answer.id]):
            text = f"{text} {row['text']}".strip()
            log_p = asyncio.run(scorer.score(answer.question, text)).log_p if scorer is not None else None
            pause = pauses[i] if i < len(pauses) else None
            out.append(Prefix(answer, i, text, row["smart_turn"], log_p, pause))
    return out


def model_latency(items: list[Prefix], rounds: int = 3) -> None:
    """Time per judgement on this machine, median / p95: as a session asks (another session's question
    before each answer, then the question primed while the candidate speaks, so each pause evaluates its
    new words only), without the priming, and cold (another session's question before every pause)."""
    from turn_taking.end_of_turn_model import shared_end_of_turn_scorer

    model = shared_end_of_turn_scorer()._model
    other = ("And another session's question, with nothing in common?", "yes")
    timings: dict[str, list[float]] = {"as a session asks (question primed)": [], "without priming": [], "cold": []}
    for _ in range(rounds):
        for primed, name in ((True, "as a session asks (question primed)"), (False, "without priming")):
            previous = None
            for item in items:
                if item.answer is not previous:
                    model.score(*other)
                    if primed:
                        model.prime(item.answer.question)
                    previous = item.answer
                timings[name].append(model.score(item.answer.question, item.text).ms)
        for item in items:
            model.score(*other)
            timings["cold"].append(model.score(item.answer.question, item.text).ms)
    for name, values in timings.items():
        ordered = sorted(values)
        p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
        print(
            f"  end-of-turn model, {name}: {statistics.median(ordered):.0f} / {p95:.0f} ms (median / p95, n={len(ordered)})"
        )


# -- the policy, replayed ------------------------------------------------------------------------


def settings_for(kind: str) -> InterviewTurnStop:
    return load_interview_config(CONFIG_FOR_KIND[kind]).turn_taking.interview


def replay(items: list[Prefix]) -> list[dict[str, Any]]:
    """Each prefix's decision, in order, with one candidate's history per interview kind (as the strategy
    keeps it: every pause is resumed after; one after a finished-sounding answer is a near miss)."""
    histories: dict[str, PauseHistory] = {}
    rows = []
    for item in items:
        kind = item.answer.interview
        settings = settings_for(kind)
        history = histories.setdefault(kind, PauseHistory(settings.recover_after_answers))
        inputs = PauseInputs(
            text=item.text,
            smart_turn_probability=item.smart_turn,
            question=item.answer.question,
            phase_id=kind,
            resumed_pauses=tuple(history.resumed_pauses),
            near_miss_pauses=history.near_miss_pauses,
            end_of_turn_log_p=item.log_p,
        )
        decision = decide(settings, inputs)
        cut = item.pause_secs is not None and decision.wait_secs < item.pause_secs
        if item.pause_secs is None:
            history.answer_ended()
        else:
            history.resumed(item.pause_secs)
            history.went_on_after(decision.verdict, item.pause_secs, settings)
        rows.append({"item": item, "decision": decision, "cut": cut})
    return rows


# -- printing -------------------------------------------------------------------------------------


def p50_p95(values: list[float]) -> str:
    if not values:
        return "-"
    ordered = sorted(values)
    return f"{statistics.median(ordered):.2f} / {ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]:.2f}"


def signal_table(items: list[Prefix], rows: list[dict[str, Any]], threshold: float) -> None:
    """Accuracy and false 'finished' rate of each signal alone on the labelled prefixes."""
    signals: dict[str, list[bool]] = {
        "text rules (read_answer)": [read_answer(i.text).finished for i in items],
        "Smart Turn p >= 0.5": [i.smart_turn >= 0.5 for i in items],
    }
    if all(i.log_p is not None for i in items):
        signals[f"end-of-turn model log P >= {threshold:.1f}"] = [i.log_p >= threshold for i in items]  # type: ignore[operator]
    signals["policy verdict 'done'"] = [r["decision"].verdict == "done" for r in rows]
    ends = sum(i.finished for i in items)
    print(f"\nsignals alone, {len(items)} labelled prefixes ({ends} finished, {len(items) - ends} at a pause):")
    print(f"  {'signal':<34} {'accuracy':>9} {'false finished':>15} {'missed finished':>16}")
    for name, said in signals.items():
        correct = sum(s == i.finished for s, i in zip(said, items))
        false_fin = sum(s and not i.finished for s, i in zip(said, items))
        missed = sum(not s and i.finished for s, i in zip(said, items))
        print(
            f"  {name:<34} {correct / len(items):>9.2f} {false_fin / max(1, len(items) - ends):>15.2f} "
            f"{missed / max(1, ends):>16.2f}"
        )


def replay_table(rows: list[dict[str, Any]]) -> None:
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        groups[(r["item"].answer.interview, r["item"].answer.category)].append(r)
    print("\npolicy replayed: cut-offs at pauses; silence waited after the real end (s, p50 / p95)")
    print(f"  {'kind':<10} {'category':<20} {'answers':>7} {'cut off':>8} {'end wait p50 / p95':>20}")
    totals: dict[str, list[Any]] = defaultdict(lambda: [0, 0, []])
    for (kind, category), group in sorted(groups.items()):
        answers = {r["item"].answer.id for r in group}
        cut = {r["item"].answer.id for r in group if r["cut"]}
        waits = [r["decision"].wait_secs for r in group if r["item"].finished]
        print(f"  {kind:<10} {category:<20} {len(answers):>7} {len(cut):>8} {p50_p95(waits):>20}")
        totals[kind][0] += len(answers)
        totals[kind][1] += len(cut)
        totals[kind][2].extend(waits)
    for kind, (n, cut, waits) in sorted(totals.items()):
        print(f"  {kind:<10} {'all':<20} {n:>7} {cut:>8} {p50_p95(waits):>20}")


def details(rows: list[dict[str, Any]]) -> None:
    for r in rows:
        item, decision = r["item"], r["decision"]
        pause = "END" if item.pause_secs is None else f"{item.pause_secs:.1f}s"
        log_p = "-" if item.log_p is None else f"{item.log_p:6.1f}"
        flag = "CUT" if r["cut"] else ""
        print(
            f"{item.answer.id:<26} {pause:>5} {decision.verdict:<10} wait {decision.wait_secs:4.1f} lp {log_p} "
            f"st {item.smart_turn:.2f} {flag:<3} | {item.text[-70:]}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--half", choices=["dev", "test"], default="dev")
    parser.add_argument(
        "--policy", choices=["rules", "model"], default="model", help="model: with the end-of-turn model"
    )
    parser.add_argument("--threshold", type=float, default=-14.0, help="log P for the model-alone row (-14: P 8e-7)")
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "voice-interviewer")
    parser.add_argument("--details", action="store_true", help="every prefix's decision")
    parser.add_argument("--latency", action="store_true", help="also time the model per judgement (median / p95)")
    args = parser.parse_args()
    from loguru import logger

    logger.remove()
    answers = split(build_corpus(), args.half)
    features = audio_features(answers, args.cache)
    started = time.perf_counter()
    items = prefixes(answers, features, model=args.policy == "model")
    if args.policy == "model":
        per_call = (time.perf_counter() - started) * 1000 / max(1, len(items))
        print(f"end-of-turn model: {len(items)} calls, {per_call:.0f} ms each on average (incl. event-loop hop)")
    rows = replay(items)
    print(f"corpus half '{args.half}': {len(answers)} answers; policy: {args.policy}")
    signal_table(items, rows, args.threshold)
    replay_table(rows)
    if args.details:
        details(rows)
    if args.latency and args.policy == "model":
        model_latency(items)


if __name__ == "__main__":
    main()
