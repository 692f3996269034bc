"""The second decode of a speech translation: beam search kept from repeating itself."""

from __future__ import annotations

import numpy as np
import pytest

from ustad.speech.target_guard import english_words, repeated_phrase
from ustad.speech.types import Audio
from ustad.speech.whisper import WhisperTranscriber
from ustad.speech.whisper.beam_translation import BeamTranslation

pytestmark = pytest.mark.models


def test_only_a_multilingual_model_and_a_beam_will_do(
    tiny_en: WhisperTranscriber, whisper_base: WhisperTranscriber
) -> None:
    with pytest.raises(ValueError, match="English-only"):
        BeamTranslation(tiny_en)
    with pytest.raises(ValueError, match="beam_size"):
        BeamTranslation(whisper_base, beam_size=0)
    with pytest.raises(ValueError, match="16000 Hz"):
        BeamTranslation(whisper_base)(Audio(np.zeros(8_000, np.float32), 8_000), "ur")


def test_real_urdu_becomes_english_without_a_repeated_phrase(
    whisper_base: WhisperTranscriber, urdu_audio: list[tuple[Audio, str]]
) -> None:
    """Greedy decoding of these clips said "the government and" two or three times in a
    row; the beam decode with ``no_repeat_ngram_size`` 3 never repeats three tokens."""
    beam = BeamTranslation(whisper_base)
    for audio, _ in urdu_audio:
        decoded = beam(audio, "ur")
        words = english_words(decoded.text)
        assert len(words) >= 3, decoded.text
        assert repeated_phrase(words) is None, decoded.text
        assert -3.0 < decoded.avg_logprob < 0.0
        assert decoded.language == "ur" and decoded.duration == audio.duration
