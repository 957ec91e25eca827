"""`python -m regression replay`: bad record folders refused in one line (exit 2), and the comparison's maths."""

from __future__ import annotations

import json
import wave
from pathlib import Path

import numpy as np
import pytest

from interview.loader import load_interview_config
from regression.__main__ import main
from regression.records import RecordError
from regression.replay import apply_overrides, replay_inputs
from regression.replay_answers import Observation, observe, read_record, recorded_answers
from regression.replay_audio import Segment, segments_from_activity
from regression.replay_compare import Thresholds, compare, render, render_suite

RATE = 16000


def tone(seconds: float) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (6000 * np.sin(2 * np.pi * 220 * t)).astype(np.int16)


def write_wav(path: Path, left: np.ndarray, right: np.ndarray, channels: int = 2) -> None:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(2)
        wav.setframerate(RATE)
        data = np.stack([left, right], axis=1) if channels == 2 else left
        wav.writeframes(data.astype("<i2").tobytes())


def make_record(folder: Path, spans: dict[str, list[tuple[float, float]]], lines: list[tuple[str, float]]) -> Path:
    """A record: tones where each side speaks (seconds), transcript lines (speaker, elapsed_s)."""
    folder.mkdir(parents=True)
    interview = load_interview_config("senior_backend_engineer").model_dump(mode="json")
    (folder / "config.json").write_text(json.dumps({"session_id": folder.name, "interview": interview}))
    length = max(end for side in spans.values() for _, end in side) + 1.0
    channels = {side: np.zeros(int(length * RATE), dtype=np.int16) for side in ("left", "right")}
    for side, pieces in spans.items():
        for start, end in pieces:
            channels[side][int(start * RATE) : int(start * RATE) + int((end - start) * RATE)] = tone(end - start)
    write_wav(folder / "recording.wav", channels["left"], channels["right"])
    text = {"candidate": "I would use a queue and retries.", "interviewer": "Tell me about it."}
    rows = [{"elapsed_s": at, "speaker": who, "text": text[who], "phase": "introduction"} for who, at in lines]
    (folder / "transcript.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    (folder / "events.jsonl").write_text(
        json.dumps({"elapsed_s": 6.2, "type": "tool_call", "name": "transition_section"}) + "\n"
        + json.dumps({"elapsed_s": 6.2, "type": "phase_transition", "from": "introduction", "to": "system_design"})
        + "\n"
    )  # fmt: skip
    return folder


# The greeting 0-2 s; an answer 3-4 s and 4.6-6 s (a pause inside); the reply 6.8-8 s; a second answer 9.5-11 s.
SPANS = {"left": [(3.0, 4.0), (4.6, 6.0), (9.5, 11.0)], "right": [(0.0, 2.0), (6.8, 8.0), (11.9, 13.0)]}
LINES = [("interviewer", 2.0), ("candidate", 8.0), ("interviewer", 8.0), ("candidate", 13.0), ("interviewer", 13.0)]


@pytest.fixture
def record(tmp_path: Path) -> Path:
    return make_record(tmp_path / "sessions" / "s1", SPANS, LINES)


def test_answers_are_cut_by_the_transcript_timing_with_their_pauses(record: Path) -> None:
    view = read_record(record)
    answers = recorded_answers(view)
    assert [(a.speech.start, a.speech.end) for a in answers] == [(3.0, 6.0), (9.5, 11.0)]
    assert answers[0].lead_in == pytest.approx(1.0) and answers[1].lead_in == pytest.approx(1.5)
    clip = answers[0].clip
    pcm = view.recording.candidate_pcm(clip.start, clip.end)
    assert len(pcm) == int((clip.end - clip.start) * RATE) * 2  # the pause inside kept: one piece of audio


def test_consecutive_candidate_lines_are_one_answer(tmp_path: Path) -> None:
    lines = [("interviewer", 2.0), ("candidate", 7.0), ("candidate", 8.0), ("interviewer", 8.0)]
    view = read_record(make_record(tmp_path / "s", {"left": [(3.0, 6.0)], "right": [(0, 2), (6.8, 8)]}, lines))
    answers = recorded_answers(view)
    assert len(answers) == 1 and answers[0].heard.count("queue") == 2


def test_the_original_turn_is_measured_from_the_recording(record: Path) -> None:
    view = read_record(record)
    first = observe(Segment(3.0, 6.0), 9.5, view.interviewer_speech, view.events, "x")
    assert first.cut_off is False and first.reply_delay_ms == pytest.approx(800, abs=25)
    assert first.tools == ["transition_section"] and first.phase_moves == ["introduction→system_design"]
    # The interviewer began at 6.8 s, inside an answer that went on to 7.5 s: a cut-off, and no delay.
    cut = observe(Segment(3.0, 7.5), 9.5, view.interviewer_speech, [], "x")
    assert cut.cut_off is True and cut.reply_delay_ms == 0
    # A listening cue in the pause is interviewer speech, but no reply.
    cue = [{"elapsed_s": 6.5, "type": "backchannel", "text": "Mm-hm."}]
    assert observe(Segment(3.0, 7.5), 9.5, view.interviewer_speech, cue, "x").cut_off is False
    # Nothing said after the answer before the next one: no reply.
    assert observe(Segment(8.5, 9.0), 9.5, view.interviewer_speech, [], "x").reply_delay_ms is None


def test_activity_runs_merge_short_gaps_and_drop_clicks() -> None:
    active = np.array([0, 1, 1, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1], bool)
    assert segments_from_activity(active, 0.02) == [Segment(0.02, 0.12), Segment(0.5, 0.58)]


def obs(heard: str = "I would use a queue", cut: bool = False, delay: float | None = 800.0, tools=()) -> Observation:
    return Observation(heard, cut, delay, list(tools), [])


def test_the_same_turns_are_no_regression() -> None:
    then = [obs(tools=["transition_section"]), obs(cut=True, delay=0.0), obs(delay=1000.0)]
    result = compare("a", "b", then, list(then), Thresholds())
    assert result.regressions == [] and result.wer_points == 0 and result.slower_ms == 0
    assert "no regression" in render(result) and "ok" in render_suite([result])


def test_a_new_cut_off_is_a_regression_and_an_old_one_is_not() -> None:
    then = [obs(cut=True), obs()]
    result = compare("a", "b", then, [obs(cut=True), obs(cut=True, delay=0.0)], Thresholds())
    assert result.new_cut_offs == [2] and result.regressions == ["answer 2: cut off now, not then"]
    assert "no/yes NEW" in render(result).splitlines()[2] and "NEW" not in render(result).splitlines()[1]


def test_reply_p50_threshold_compares_medians_of_answers_replied_both_times() -> None:
    then = [obs(delay=800.0), obs(delay=900.0), obs(delay=1000.0), obs(delay=None)]
    now = [obs(delay=1100.0), obs(delay=1250.0), obs(delay=1300.0), obs(delay=5000.0)]
    result = compare("a", "b", then, now, Thresholds(max_slower_ms=300))
    assert (result.reply_p50_then_ms, result.reply_p50_now_ms, result.slower_ms) == (900.0, 1250.0, 350.0)
    assert result.regressions == ["reply p50 slower by 350 ms (more than 300)"]
    assert compare("a", "b", then, now, Thresholds(max_slower_ms=400)).regressions == []


def test_recognition_is_the_word_error_rate_of_now_against_then() -> None:
    then = [obs("one two three four five"), obs("six seven eight nine ten")]
    now = [obs("one two three four five"), obs("six seven ate nine")]  # 1 substitution + 1 deletion of 10 words
    result = compare("a", "b", then, now, Thresholds(max_wer_points=10))
    assert result.wer_points == 20.0 and result.answers[1].wer_points == 40.0
    assert result.regressions == ["recognition differs by 20.0 WER points (more than 10)"]


def test_an_interview_that_ends_before_every_answer_is_a_regression() -> None:
    result = compare("a", "b", [obs(), obs()], [obs()], Thresholds())
    assert result.regressions == ["the interview ended after 1 of 2 answers"]
    document = result.to_dict()
    assert document["answers"][1]["now"] is None and document["summary"]["played"] == 1


def test_overrides_change_the_interview_and_refuse_unknown_keys_and_invalid_values() -> None:
    interview = load_interview_config("senior_backend_engineer").model_dump(mode="json")
    changed = apply_overrides(interview, ["turn_taking.interview.done_wait_secs=0.1"], "x")
    assert changed["turn_taking"]["interview"]["done_wait_secs"] == 0.1
    assert interview["turn_taking"]["interview"]["done_wait_secs"] != 0.1  # the record's own config untouched
    with pytest.raises(RecordError, match="no such setting"):
        apply_overrides(interview, ["turn_taking.interview.nope=1"], "x")
    with pytest.raises(RecordError, match="KEY=VALUE"):
        apply_overrides(interview, ["done_wait_secs"], "x")
    with pytest.raises(RecordError):  # waits must grow: done <= unsure
        apply_overrides(interview, ["turn_taking.interview.done_wait_secs=4"], "x")


def test_a_folder_of_sessions_skips_the_replays_in_it(tmp_path: Path) -> None:
    make_record(tmp_path / "s" / "a", SPANS, LINES)
    replayed = make_record(tmp_path / "s" / "b", SPANS, LINES)
    (replayed / "comparison.json").write_text("{}")
    assert [i.record.directory.name for i in replay_inputs([str(tmp_path / "s")], tmp_path, [])] == ["a"]
    assert len(replay_inputs([str(replayed)], tmp_path, [])) == 1  # named explicitly: replayed


def bad(capsys: pytest.CaptureFixture[str], folder: Path) -> str:
    assert main(["replay", str(folder)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    return err


def test_no_recording(record: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (record / "recording.wav").unlink()
    assert "recording.wav is missing" in bad(capsys, record)


def test_mono_recording(record: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_wav(record / "recording.wav", tone(5), tone(5), channels=1)
    assert "1-channel recording" in bad(capsys, record)


def test_truncated_recording(record: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = record / "recording.wav"
    path.write_bytes(path.read_bytes()[: 44 + 4 * RATE * 5])  # the header still promises 14 s
    assert "truncated" in bad(capsys, record)


def test_not_a_wav(record: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (record / "recording.wav").write_bytes(b"ID3 an mp3, not a wav" * 10)
    assert "not a WAV recording" in bad(capsys, record)


def test_candidate_lines_past_the_recordings_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    late = [*LINES, ("candidate", 40.0), ("interviewer", 41.0)]
    err = bad(capsys, make_record(tmp_path / "s", SPANS, late))
    assert "past the recording's end" in err and "does not match the audio" in err


def test_a_candidate_line_with_no_speech_under_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    silent_answer = {"left": [(3.0, 6.0)], "right": SPANS["right"]}
    err = bad(capsys, make_record(tmp_path / "s", silent_answer, LINES))
    assert "no candidate speech in recording.wav between 8.0 and 13.0 s" in err


def test_a_transcript_without_timing(record: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (record / "transcript.jsonl").write_text(json.dumps({"speaker": "candidate", "text": "hi"}) + "\n")
    assert "no timing (elapsed_s)" in bad(capsys, record)


def test_a_bad_override_is_bad_input(record: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["replay", str(record), "--config-override", "nope=1"]) == 2
    assert "no such setting" in capsys.readouterr().err


def test_the_report_of_a_replay_links_its_original_and_shows_the_comparison(tmp_path: Path) -> None:
    from report.render import render_report

    original = make_record(tmp_path / "sessions" / "orig", SPANS, LINES)
    (original / "report.html").write_text("<html></html>")
    replayed = make_record(tmp_path / "replays" / "new", SPANS, LINES)
    comparison = compare(str(original), str(replayed), [obs(), obs()], [obs(), obs(cut=True, delay=0.0)], Thresholds())
    document = {**comparison.to_dict(), "config_overrides": ["turn_taking.interview.done_wait_secs=0.2"]}
    (replayed / "comparison.json").write_text(json.dumps(document))
    html = render_report(replayed)
    assert 'href="../../sessions/orig/report.html"' in html and ">orig</a>" in html
    assert "Regression: answer 2: cut off now, not then" in html and "no/yes <strong>new</strong>" in html
    assert "done_wait_secs=0.2" in html
    assert 'id="replay"' not in render_report(original)  # not a replay: no section
    (replayed / "comparison.json").write_text("{not json")
    assert "comparison.json could not be read" in render_report(replayed)


def test_the_new_session_is_judged_on_the_candidates_clock(record: Path) -> None:
    from regression.replay_answers import observe_replayed

    view = read_record(record)  # lines at 8.0 and 13.0 s: one per answer; the tool call at 6.2 s
    played = [Segment(3.0, 6.0), Segment(9.5, 11.0)]
    heard = [Segment(0.0, 2.0), Segment(5.0, 5.4), Segment(6.6, 8.0), Segment(11.0, 12.0)]
    first, second = observe_replayed(view, played, heard)
    assert first.cut_off and first.reply_delay_ms == 600 and first.tools == ["transition_section"]
    assert not second.cut_off and second.reply_delay_ms == 0  # speaking as the answer ended: no delay
    assert first.heard == second.heard == "I would use a queue and retries."


def test_a_bot_that_does_not_start_is_exit_3(
    record: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import regression.replay_run

    monkeypatch.setattr(regression.replay_run, "ROOT", tmp_path)  # no bot.py there
    assert main(["replay", str(record), "--out", str(tmp_path / "out")]) == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: replay failed: the bot did not start:") and "bot.py" in err[-1]
