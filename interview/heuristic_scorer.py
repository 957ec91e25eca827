"""Offline, deterministic rubric scorer: how close are the answers to each anchor's example?

Why: sessions without an LLM key (and every test) still deserve a scorecard with evidence.
This is a heuristic, not a judgement, and says so in its output. For each area it builds a
TF-IDF profile of every anchor (example answer + description), measures the cosine similarity
of the candidate's relevant answers to each profile, and interpolates between the anchor
scores with a softmax over those similarities. The area's follow-up triggers (and its
description) only decide *relevance* — whether there is evidence at all — never the score,
because triggers such as "usually" can mark a weak answer as easily as a strong one.
Evidence quotes are the answer sentences most similar to the area; they are verbatim.

It scores only what it can defend: whether the answers address the area at all, which anchor
they are nearest, and how sure that is. Certainty is the strength of the anchor match times
the answers' fluency (`interview.fluency`): keyword salad from a failing speech recogniser
shares the anchors' vocabulary but not their sentences, so it is credited little, and an
answer that does not read as speech at all is not scored (a person should listen). The
score is the nearest-anchor score pulled toward the bottom of the scale by the missing
certainty. It never recommends hiring (`recommends = False`): its totals are indicative.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from dataclasses import dataclass

from interview.config import InterviewConfig, RubricArea
from interview.fluency import fluency
from interview.scoring_models import AreaJudgement, QAPair, ScoringRun
from interview.text_similarity import TfIdf, Vector, combine, cosine, match_form, split_sentences

HEURISTIC_NOTE = (
    "Indicative only: the offline heuristic measures how closely the answers' wording matches the rubric "
    "anchors' examples and how sure that match is. It does not judge content and makes no hire "
    "recommendation; a person must review the evidence and the recording."
)
SOFTMAX_TEMPERATURE = 0.04
MIN_ANCHOR_SIMILARITY = 0.04  # below this (and no trigger heard) the answers say nothing about the area
FULL_ANCHOR_SIMILARITY = 0.25  # a match this close (or closer) is a clear one
MIN_FLUENCY = 0.35  # below this the transcript does not read as speech: no score
DESCRIPTION_WEIGHT = 0.5
EVIDENCE_SENTENCES = 2


@dataclass(frozen=True)
class _AreaModel:
    area: RubricArea
    anchors: tuple[tuple[int, Vector], ...]  # (score, profile)
    topic: Vector  # description + anchors + triggers: what the area is about


class HeuristicScorer:
    """Implements `interview.scoring.Scorer` without network or randomness."""

    name = "heuristic"
    model: str | None = None
    note: str | None = HEURISTIC_NOTE
    confidence_ceiling = 0.5
    recommends = False  # indicative scores only; never a hire recommendation

    async def evaluate(
        self, config: InterviewConfig, pairs: Sequence[QAPair], *, areas: Sequence[str] | None = None
    ) -> ScoringRun:
        # CPU work off the event loop, so scoring never delays audio frames.
        return await asyncio.to_thread(self.evaluate_sync, config, pairs, areas=areas)

    def evaluate_sync(
        self, config: InterviewConfig, pairs: Sequence[QAPair], *, areas: Sequence[str] | None = None
    ) -> ScoringRun:
        tfidf = TfIdf(_reference_corpus(config))
        wanted = [a for a in config.rubric if areas is None or a.id in areas]
        return ScoringRun({area.id: self._score_area(tfidf, _area_model(tfidf, area), pairs) for area in wanted})

    def _score_area(self, tfidf: TfIdf, model: _AreaModel, pairs: Sequence[QAPair]) -> AreaJudgement:
        area = model.area
        texts = [
            p.answer.strip() for p in pairs if p.answer.strip() and (not p.rubric_areas or area.id in p.rubric_areas)
        ]
        if not texts:
            return AreaJudgement(None, (), "No answer to a question about this area.")
        joined = " ".join(texts)
        vector = tfidf.vector(joined)
        similarities = [cosine(vector, profile) for _, profile in model.anchors]
        heard = [t for t in area.follow_up_triggers if f" {match_form(t)} " in f" {match_form(joined)} "]
        if max(similarities) < MIN_ANCHOR_SIMILARITY and not heard:
            return AreaJudgement(None, (), "The answers share no vocabulary with this area's anchors.")
        speech = fluency(joined)
        if speech.score < MIN_FLUENCY:
            return AreaJudgement(
                None,
                (),
                f"Not scored: the transcript does not read as speech ({speech.describe()}); "
                "likely a transcription failure, listen to the recording.",
            )
        anchor_scores = [s for s, _ in model.anchors]
        nearest = _interpolate(anchor_scores, similarities)
        match = _ramp(max(similarities), MIN_ANCHOR_SIMILARITY, FULL_ANCHOR_SIMILARITY)
        certainty = round(match * speech.score, 2)
        bottom = min(anchor_scores)
        score = bottom + (nearest - bottom) * certainty
        evidence = _evidence(tfidf, model, texts)
        closest = max(range(len(similarities)), key=lambda i: (similarities[i], -i))
        rationale = (
            f"Heuristic: addresses the area; nearest the score-{model.anchors[closest][0]} anchor "
            f"(similarity {similarities[closest]:.2f}; "
            + ", ".join(f"{s}: {sim:.2f}" for (s, _), sim in zip(model.anchors, similarities, strict=True))
            + f"); certainty {certainty:.2f} (anchor match {match:.2f}, {speech.describe()}), "
            f"so {score:.1f} of {nearest:.1f} is credited."
        )
        if heard:
            rationale += f" Triggers heard: {', '.join(heard)}."
        return AreaJudgement(round(score, 1), tuple(evidence), rationale)


def _reference_corpus(config: InterviewConfig) -> list[str]:
    """IDF comes from the rubric itself, so scores do not depend on which answers were given."""
    docs: list[str] = []
    for area in config.rubric:
        docs.append(area.description)
        for anchor in area.anchors:
            docs.append(anchor.description)
            if anchor.example_answer:
                docs.append(anchor.example_answer)
    return docs


def _area_model(tfidf: TfIdf, area: RubricArea) -> _AreaModel:
    anchors = []
    for anchor in area.anchors:
        parts = [(tfidf.vector(anchor.description), DESCRIPTION_WEIGHT)]
        if anchor.example_answer:
            parts.append((tfidf.vector(anchor.example_answer), 1.0))
        anchors.append((anchor.score, combine(parts)))
    topic_parts = [(tfidf.vector(area.description), 1.0), (tfidf.vector(" ".join(area.follow_up_triggers)), 1.0)]
    topic_parts += [(profile, 0.5) for _, profile in anchors]
    return _AreaModel(area, tuple(anchors), combine(topic_parts))


def _interpolate(scores: Sequence[int], similarities: Sequence[float]) -> float:
    """Softmax-weighted mean of the anchor scores: a score between the anchors the answer resembles."""
    top = max(similarities)
    weights = [math.exp((s - top) / SOFTMAX_TEMPERATURE) for s in similarities]
    return sum(w * score for w, score in zip(weights, scores, strict=True)) / sum(weights)


def _ramp(value: float, low: float, high: float) -> float:
    return min(1.0, max(0.0, (value - low) / (high - low)))


def _evidence(tfidf: TfIdf, model: _AreaModel, texts: Sequence[str]) -> list[str]:
    """The answer sentences most similar to the area (ties: earlier first)."""
    ranked: list[tuple[float, int, str]] = []
    order = 0
    for text in texts:
        for sentence in split_sentences(text):
            vector = tfidf.vector(sentence)
            relevance = max([cosine(vector, model.topic)] + [cosine(vector, p) for _, p in model.anchors])
            ranked.append((relevance, order, sentence))
            order += 1
    ranked.sort(key=lambda item: (-item[0], item[1]))
    chosen = [sentence for relevance, _, sentence in ranked[:EVIDENCE_SENTENCES] if relevance > 0]
    if not chosen and ranked:
        chosen = [ranked[0][2]]
    return chosen
