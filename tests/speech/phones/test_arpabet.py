"""The phone set, its IPA maps and classes."""

from __future__ import annotations

from collections import Counter

import pytest

from ustad.speech.phones.arpabet import (
    ESPEAK_MNEMONICS,
    PHONES,
    RECOGNISER_TOKENS,
    VOWELS,
    articulation,
    ipa_to_arpabet,
    is_vowel,
)


def test_every_map_covers_the_39_phones() -> None:
    assert len(PHONES) == 39
    assert set(RECOGNISER_TOKENS) == set(ESPEAK_MNEMONICS) == set(PHONES)
    assert len(VOWELS) == 15


def test_a_recogniser_token_belongs_to_one_phone() -> None:
    counts = Counter(t for tokens in RECOGNISER_TOKENS.values() for t in tokens)
    assert max(counts.values()) == 1


def test_espeak_ipa_to_arpabet() -> None:
    assert ipa_to_arpabet(["v", "ˈɛ", "ɹ", "i"]) == ("V", "EH", "R", "IY")
    assert ipa_to_arpabet(["s", "t", "ˈeɪ", "ʃ", "ə", "n"]) == ("S", "T", "EY", "SH", "AH", "N")
    assert ipa_to_arpabet(["l", "ɐ", "h", "ˈɔːɹ"]) == ("L", "AH", "HH", "AO", "R")
    assert ipa_to_arpabet(["b", "ˈɒ", "ʔ", "l̩"]) == ("B", "AA", "AH", "L")


@pytest.mark.parametrize(
    ("phone", "manner", "place"),
    [("V", "fricative", "labiodental"), ("W", "glide", "bilabial"), ("TH", "fricative", "dental")],
)
def test_articulation(phone: str, manner: str, place: str) -> None:
    found = articulation(phone)
    assert (found.kind, found.manner, found.place) == ("consonant", manner, place)


def test_vowels() -> None:
    assert is_vowel("IY1") and not is_vowel("S")
    assert articulation("IY").kind == "vowel"
    with pytest.raises(KeyError):
        articulation("XX")
