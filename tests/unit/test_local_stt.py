"""PocketsphinxSTTService: espeak answers streamed in 20 ms chunks come out as transcripts.

The VAD start/stop frames are sent UPSTREAM into the service after the audio they
refer to has passed it, as the user aggregator (which sits after the STT) does.
Thresholds are below what scripts/measure_stt_accuracy.py measures on this machine
(known answers: 98.5% at 16 kHz, 85.0% at 8 kHz; finalisation ~14 ms median).
"""

import re

import pytest
from pipecat.frames.frames import InterimTranscriptionFrame, TranscriptionFrame
from pipecat.transcriptions.language import Language

from interview.loader import load_interview_config
from scripts.measure_stt_accuracy import (
    known_answers,
    synthesize,
    transcribe_session,
    word_accuracy,
    word_errors,
)
from services.local_stt import (
    PocketsphinxSTTService,
    build_adapted_model,
    create_decoder,
    ipa_to_arpabet,
    sentences,
    spell_number,
)

VOCABULARY = load_interview_config("senior_backend_engineer").vocabulary()
KNOWN = known_answers()


async def test_known_answers_at_16k() -> None:
    results = await transcribe_session(PocketsphinxSTTService(VOCABULARY), synthesize(KNOWN, 16000), 16000)
    accuracy = word_accuracy(KNOWN, [r.text for r in results])
    assert accuracy >= 0.90, [r.text for r in results]
    latencies = sorted(r.latency_ms for r in results)
    assert latencies[len(latencies) // 2] < 200  # VAD stop -> final transcript


async def test_known_answers_at_8k_telephony() -> None:
    results = await transcribe_session(PocketsphinxSTTService(VOCABULARY), synthesize(KNOWN, 8000), 8000)
    assert word_accuracy(KNOWN, [r.text for r in results]) >= 0.75, [r.text for r in results]


async def test_speech_before_a_late_vad_start_is_kept() -> None:
    text = ["Each payment carries an idempotency key stored with the ledger entry in one transaction."]
    results = await transcribe_session(
        PocketsphinxSTTService(VOCABULARY), synthesize(text, 16000), 16000, vad_start_secs=0.8
    )
    assert results[0].text.startswith("each payment")


async def test_final_frame_is_finalized_and_pushed_downstream() -> None:
    from pipecat.processors.frame_processor import FrameDirection

    seen: list[TranscriptionFrame] = []
    interims: list[InterimTranscriptionFrame] = []
    stt = PocketsphinxSTTService(VOCABULARY)
    original = stt.push_frame

    async def spy(frame, direction=FrameDirection.DOWNSTREAM):
        if isinstance(frame, TranscriptionFrame):
            assert direction == FrameDirection.DOWNSTREAM
            seen.append(frame)
        elif isinstance(frame, InterimTranscriptionFrame):
            interims.append(frame)
        await original(frame, direction)

    stt.push_frame = spy  # type: ignore[method-assign]
    await transcribe_session(stt, synthesize(["We use transactions so the data stays consistent."], 16000), 16000)
    assert len(seen) == 1
    frame = seen[0]
    assert frame.finalized and frame.language == Language.EN and frame.user_id == ""
    assert re.match(r"\d{4}-\d\d-\d\dT", frame.timestamp)
    assert word_errors("We use transactions so the data stays consistent.", frame.text)[0] <= 1
    assert interims and len(interims[0].text) < len(frame.text)  # partial results came first


def test_vocabulary_words_missing_from_the_dictionary_get_phones() -> None:
    model = build_adapted_model(VOCABULARY)
    for word in ("kubernetes", "idempotency", "postgresql", "northwind"):
        assert word in model.generated
    assert model.dropped == []
    with open(model.dict_path, encoding="utf-8") as f:
        entries = {line.split()[0] for line in f}
    assert {"kubernetes", "ledger", "payments", "the"} <= entries


def test_text_normalisation_and_g2p_helpers() -> None:
    assert sentences("Trade-offs: 10 shards. Why?") == [["Trade", "offs"], ["ten", "shards"], ["Why"]]
    assert spell_number(2024) == "two thousand twenty four"
    assert ipa_to_arpabet("k_ˌuː_b_ɚ_n_ˈɛ_ɾ_iː_z") == "K UW B ER N EH T IY Z"
    assert ipa_to_arpabet("k_☃") is None


def test_no_vocabulary_means_the_general_model_and_wordless_text_is_rejected() -> None:
    assert create_decoder("").get_config()["dict"].endswith("cmudict-en-us.dict")
    with pytest.raises(ValueError, match="no usable words"):
        build_adapted_model("!!! ???")
