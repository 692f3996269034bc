"""espeak-ng as grapheme-to-phoneme fallback and as a voice taking phoneme input."""

from __future__ import annotations

import numpy as np
import pytest

from ustad.speech.espeak_tts import EspeakSynthesizer
from ustad.speech.phones.espeak_phonemes import EspeakPhonemizer


@pytest.fixture(scope="module")
def phonemizer() -> EspeakPhonemizer:
    return EspeakPhonemizer()


def test_ipa_and_mnemonics_per_word(phonemizer: EspeakPhonemizer) -> None:
    assert phonemizer.ipa_words("very") == (("v", "ˈɛ", "ɹ", "i"),)
    assert phonemizer.mnemonic_words("very") == (("v", "'E", "r", "i"),)
    assert len(phonemizer.ipa_words("station house")) == 2
    assert phonemizer.ipa_words("  ") == ()


def test_phoneme_input_is_spoken_not_read_out() -> None:
    voice = EspeakSynthesizer("en-us", language="en")
    marked = voice.synthesize_phonemes("It is [[w'Eri]] good.").samples
    spelled = voice.synthesize("It is left bracket left bracket w E r i good.").samples
    assert 0.5 < len(marked) / voice.synthesize("It is very good.").samples.size < 1.5
    assert len(spelled) > 1.5 * len(marked)
    assert np.abs(marked).max() > 1000
    with pytest.raises(ValueError, match="empty"):
        voice.synthesize_phonemes(" ")
