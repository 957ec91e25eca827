"""Embedded model files: packaged weights resolve, anything missing is one clear error, nothing downloads."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.model_files import LocalModelError, resolve_piper_voice, resolve_whisper_model


def test_bundled_models_resolve_to_package_files() -> None:
    assert (Path(resolve_whisper_model("tiny.en")) / "model.bin").is_file()
    voice = resolve_piper_voice("en_US-joe-medium")
    assert voice.model.is_file() and voice.config.is_file()


def test_whisper_base_parts_are_joined_once(tmp_path: Path) -> None:
    joined = Path(resolve_whisper_model("base", cache_dir=tmp_path))
    size = (joined / "model.bin").stat().st_size
    assert size > 140_000_000 and (joined / "config.json").is_file()
    mtime = (joined / "model.bin").stat().st_mtime_ns
    assert resolve_whisper_model("base", cache_dir=tmp_path) == str(joined)
    assert (joined / "model.bin").stat().st_mtime_ns == mtime
    assert [p.name for p in tmp_path.iterdir()] == ["whisper-base"]  # no staging left behind


def test_whisper_directory_without_a_model_is_refused(tmp_path: Path) -> None:
    with pytest.raises(LocalModelError, match=r"no model\.bin"):
        resolve_whisper_model(str(tmp_path))
    with pytest.raises(LocalModelError, match="no such directory"):
        resolve_whisper_model(str(tmp_path / "missing"))


def test_piper_voice_must_be_bundled_or_an_onnx_path(tmp_path: Path) -> None:
    with pytest.raises(LocalModelError, match="never downloaded"):
        resolve_piper_voice("en_US-ryan-high")
    with pytest.raises(LocalModelError, match="missing voice file"):
        resolve_piper_voice(str(tmp_path / "voice.onnx"))
    (tmp_path / "voice.onnx").write_bytes(b"x")
    with pytest.raises(LocalModelError, match=r"voice\.onnx\.json"):
        resolve_piper_voice(str(tmp_path / "voice.onnx"))
