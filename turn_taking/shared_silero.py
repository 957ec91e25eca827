"""Silero VAD with one ONNX session per process, shared by every session's analyzer.

Why: Pipecat's ``SileroVADAnalyzer`` builds its own ``onnxruntime.InferenceSession`` in
``__init__`` (measured here: ~10 MB of RSS per analyzer, so per interview, and a model load
at every session start). The model's recurrent state and audio context must stay per
session (they live in ``SileroOnnxModel``, in Python arrays); the ONNX session need not:
onnxruntime sessions are safe to run from several threads, and each analyzer runs its
windows on its own executor thread. The same shape as ``turn_taking/shared_smart_turn.py``.
"""

from __future__ import annotations

import threading
from importlib import resources
from typing import Any

from pipecat.audio.vad.silero import SileroOnnxModel, SileroVADAnalyzer
from pipecat.audio.vad.vad_analyzer import VADAnalyzer, VADParams

_lock = threading.Lock()
_shared_session: Any = None


def shared_silero_session() -> Any:
    """The process's Silero ONNX session (loaded on first use; Pipecat's own model file)."""
    global _shared_session
    with _lock:
        if _shared_session is None:
            path = str(resources.files("pipecat.audio.vad.data").joinpath("silero_vad.onnx"))
            _shared_session = SileroOnnxModel(path, force_onnx_cpu=True).session
        return _shared_session


class _SessionState(SileroOnnxModel):
    """``SileroOnnxModel``'s per-stream state (recurrent state, context) over the shared session."""

    def __init__(self, session: Any) -> None:  # its own __init__ would load another session
        self.session = session
        self.reset_states()
        self.sample_rates = [8000, 16000]


class SharedSileroVADAnalyzer(SileroVADAnalyzer):
    """``SileroVADAnalyzer`` on the shared session (its own ``__init__`` would load another)."""

    def __init__(self, *, sample_rate: int | None = None, params: VADParams | None = None) -> None:
        VADAnalyzer.__init__(self, sample_rate=sample_rate, params=params)
        self._model = _SessionState(shared_silero_session())
        # SileroVADAnalyzer.__init__'s model-reset bookkeeping (tests/unit/test_vad_activity.py checks the set).
        self._windows_since_reset = 0
        self._low_confidence_windows = 0
