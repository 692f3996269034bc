"""Controlled mispronunciations: espeak-ng reading a sentence with one phone changed.

Rates over a few sentences, set below what was measured on them (8 of 12 changed
phones named, 11 of 12 unchanged words clean; the benchmark's figures over 210
renderings: docs/measurements.md, "Phones and GOP").
"""

from __future__ import annotations

import numpy as np
import pytest

from ustad.speech.audio import resample_pcm
from ustad.speech.espeak_tts import EspeakSynthesizer
from ustad.speech.phones.aligner import PhoneAligner
from ustad.speech.phones.espeak_phonemes import EspeakPhonemizer
from ustad.speech.types import SAMPLE_RATE

pytestmark = pytest.mark.models

CASES = [
    ("It is very good.", "very", "v", "w", "V", "W"),
    ("Our teacher is very nice.", "very", "v", "w", "V", "W"),
    ("I have a video call.", "video", "v", "w", "V", "W"),
    ("We visit them every week.", "visit", "v", "w", "V", "W"),
    ("The zoo is closed today.", "zoo", "z", "dZ", "Z", "JH"),
    ("I like the zebra.", "zebra", "z", "dZ", "Z", "JH"),
    ("My school is near.", "school", "s", "Is", "S", "* S"),
    ("The station is far.", "station", "s", "Is", "S", "* S"),
    ("I think so.", "think", "T", "t", "TH", "T"),
    ("We need three cups.", "three", "T", "t", "TH", "T"),
    ("The vase is blue.", "vase", "v", "w", "V", "W"),
    ("Please speak slowly.", "speak", "s", "Is", "S", "* S"),
]


def _named(heard: str, expected: str) -> bool:
    return heard.endswith(" S") if expected == "* S" else heard == expected


def test_changed_phones_are_named_and_unchanged_ones_pass() -> None:
    aligner = PhoneAligner()
    espeak = EspeakPhonemizer()
    voice = EspeakSynthesizer("en-us", language="en")
    named = clean = 0
    for sentence, word, old, new, phone, heard in CASES:
        (tokens,) = espeak.mnemonic_words(word)
        at = next(i for i, t in enumerate(tokens) if t.lstrip("'%,") == old)
        changed = list(tokens)
        changed[at] = changed[at][: len(changed[at]) - len(old)] + new
        words = sentence.split()
        for mnemonics, is_changed in ((tokens, False), (changed, True)):
            text = sentence.replace(word, "[[" + "".join(mnemonics) + "]]", 1)
            pcm = resample_pcm(voice.synthesize_phonemes(text), SAMPLE_RATE)
            audio = pcm.samples.astype(np.float32) / 32768.0
            index = [w.strip(".") for w in words].index(word)
            result = aligner.align(audio, words)[index]
            flags = [p for p in result.flagged if p.phone == phone]
            if is_changed:
                named += any(_named(p.heard, heard) for p in flags)
            else:
                clean += not flags
    assert named >= 6  # 8 of 12 measured
    assert clean >= 9  # 11 of 12 measured
