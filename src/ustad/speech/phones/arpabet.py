"""The ARPAbet phone set of US English, its IPA symbols and articulatory classes.

ARPAbet is the label every other part of :mod:`ustad.speech.phones` speaks: the CMU
pronouncing dictionary writes it (stress digits dropped here), the phone recogniser's
IPA tokens are grouped into it (:data:`RECOGNISER_TOKENS`) and espeak-ng's IPA is mapped
onto it (:func:`ipa_to_arpabet`). The 39 phones and their IPA values are those of the
CMU dictionary's documentation (``cmudict.phones``) and of the usual ARPAbet table
(e.g. Jurafsky & Martin, *Speech and Language Processing*, 3rd ed., ch. 16).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

__all__ = [
    "ARPABET_IPA",
    "ESPEAK_MNEMONICS",
    "PHONES",
    "RECOGNISER_TOKENS",
    "VOWELS",
    "Articulation",
    "articulation",
    "ipa_to_arpabet",
    "is_vowel",
]

ARPABET_IPA: Final = MappingProxyType(
    {
        "AA": "ɑ", "AE": "æ", "AH": "ʌ", "AO": "ɔ", "AW": "aʊ", "AY": "aɪ", "EH": "ɛ",
        "ER": "ɝ", "EY": "eɪ", "IH": "ɪ", "IY": "i", "OW": "oʊ", "OY": "ɔɪ", "UH": "ʊ",
        "UW": "u", "B": "b", "CH": "tʃ", "D": "d", "DH": "ð", "F": "f", "G": "ɡ",
        "HH": "h", "JH": "dʒ", "K": "k", "L": "l", "M": "m", "N": "n", "NG": "ŋ",
        "P": "p", "R": "ɹ", "S": "s", "SH": "ʃ", "T": "t", "TH": "θ", "V": "v",
        "W": "w", "Y": "j", "Z": "z", "ZH": "ʒ",
    }
)  # fmt: skip
"""Each ARPAbet phone's IPA symbol (stressed form: AH /ʌ/, ER /ɝ/)."""

PHONES: Final = tuple(ARPABET_IPA)
"""The 39 ARPAbet phones, vowels first."""

VOWELS: Final = frozenset(PHONES[:15])
"""The 15 ARPAbet vowels and diphthongs."""

RECOGNISER_TOKENS: Final = MappingProxyType(
    {
        "AA": ("ɑ", "a", "ɒ", "ä"), "AE": ("æ",), "AH": ("ʌ", "ə", "ɐ"), "AO": ("ɔ",),
        "AW": ("aʊ",), "AY": ("aɪ",), "EH": ("ɛ", "e"), "ER": ("ɝ", "ɚ", "ɜ"),
        "EY": ("eɪ",), "IH": ("ɪ", "ɨ"), "IY": ("i",), "OW": ("oʊ", "o"), "OY": ("ɔɪ",),
        "UH": ("ʊ",), "UW": ("u",), "B": ("b",), "CH": ("t͡ʃ",), "D": ("d",),
        "DH": ("ð",), "F": ("f",), "G": ("g", "ɡ"), "HH": ("h", "ɦ"), "JH": ("d͡ʒ",),
        "K": ("k", "kʰ"), "L": ("l", "ɫ"), "M": ("m",), "N": ("n",), "NG": ("ŋ",),
        "P": ("p", "pʰ"), "R": ("ɹ", "r", "ɻ"), "S": ("s",), "SH": ("ʃ",),
        "T": ("t", "tʰ", "ɾ"), "TH": ("θ",), "V": ("v",), "W": ("w",), "Y": ("j",),
        "Z": ("z",), "ZH": ("ʒ",),
    }
)  # fmt: skip
"""The IPA tokens of the phone recogniser (``hama``'s CTC vocabulary) that count as each
ARPAbet phone: allophones and the recogniser's spellings of one phoneme (the flap [ɾ]
is a /t/, [ɫ] an /l/, unstressed [ə] an /ʌ/). A token belongs to one phone only."""

ESPEAK_MNEMONICS: Final = MappingProxyType(
    {
        "AA": "A:", "AE": "a", "AH": "V", "AO": "O:", "AW": "aU", "AY": "aI", "EH": "E",
        "ER": "3:", "EY": "eI", "IH": "I", "IY": "i:", "OW": "oU", "OY": "OI", "UH": "U",
        "UW": "u:", "B": "b", "CH": "tS", "D": "d", "DH": "D", "F": "f", "G": "g",
        "HH": "h", "JH": "dZ", "K": "k", "L": "l", "M": "m", "N": "n", "NG": "N",
        "P": "p", "R": "r", "S": "s", "SH": "S", "T": "t", "TH": "T", "V": "v",
        "W": "w", "Y": "j", "Z": "z", "ZH": "Z",
    }
)  # fmt: skip
"""espeak-ng's phoneme mnemonics (its ``[[...]]`` input, en-us voice) per ARPAbet phone."""

# espeak-ng IPA (one phoneme per token, stress and length marks removed) -> ARPAbet.
_IPA: Final = MappingProxyType(
    {
        "ɑ": ("AA",), "a": ("AA",), "ɒ": ("AA",), "æ": ("AE",), "ʌ": ("AH",),
        "ə": ("AH",), "ɐ": ("AH",), "ᵻ": ("IH",), "ɔ": ("AO",), "aʊ": ("AW",),
        "aɪ": ("AY",), "ɛ": ("EH",), "e": ("EH",), "ɝ": ("ER",), "ɚ": ("ER",),
        "ɜ": ("ER",), "eɪ": ("EY",), "ɪ": ("IH",), "i": ("IY",), "oʊ": ("OW",),
        "əʊ": ("OW",), "o": ("OW",), "ɔɪ": ("OY",), "ʊ": ("UH",), "u": ("UW",),
        "b": ("B",), "tʃ": ("CH",), "d": ("D",), "ð": ("DH",), "f": ("F",),
        "ɡ": ("G",), "g": ("G",), "h": ("HH",), "dʒ": ("JH",), "k": ("K",),
        "l": ("L",), "m": ("M",), "n": ("N",), "ŋ": ("NG",), "p": ("P",), "ɹ": ("R",),
        "r": ("R",), "s": ("S",), "ʃ": ("SH",), "t": ("T",), "ɾ": ("T",), "θ": ("TH",),
        "v": ("V",), "w": ("W",), "j": ("Y",), "z": ("Z",), "ʒ": ("ZH",),
        "x": ("HH",), "l̩": ("AH", "L"), "n̩": ("AH", "N"), "m̩": ("AH", "M"),
        "iə": ("IY", "AH"), "eə": ("EH", "R"), "ʊə": ("UH", "R"), "ɪə": ("IH", "R"),
    }
)  # fmt: skip
_MARKS: Final = str.maketrans("", "", "ˈˌːˑ‿-")


def ipa_to_arpabet(tokens: Sequence[str]) -> tuple[str, ...]:
    """ARPAbet phones for espeak-ng's IPA phoneme tokens (one phoneme each).

    Stress and length marks are dropped; an r-coloured token ("ɔːɹ", "ɪɹ") is its
    vowel then R; a syllabic consonant ("l̩") is AH then the consonant. Tokens with no
    English phone (a glottal stop) are skipped.
    """
    phones: list[str] = []
    for token in tokens:
        bare = token.translate(_MARKS)
        if not bare:
            continue
        if bare in _IPA:
            phones.extend(_IPA[bare])
        elif len(bare) > 1 and bare.endswith("ɹ") and bare[:-1] in _IPA:
            phones.extend((*_IPA[bare[:-1]], "R"))
    return tuple(phones)


@dataclass(frozen=True)
class Articulation:
    """How a phone is made: ``vowel`` or ``consonant``; for a consonant its manner
    (stop, fricative, affricate, nasal, liquid, glide) and place (bilabial,
    labiodental, dental, alveolar, postalveolar, palatal, velar, glottal) and whether
    it is voiced; for a vowel its height (high, mid, low, diphthong) and ``place``
    its backness (front, central, back)."""

    kind: str
    manner: str
    place: str
    voiced: bool


_CONSONANTS: Final = MappingProxyType(
    {
        "P": ("stop", "bilabial", False), "B": ("stop", "bilabial", True),
        "T": ("stop", "alveolar", False), "D": ("stop", "alveolar", True),
        "K": ("stop", "velar", False), "G": ("stop", "velar", True),
        "F": ("fricative", "labiodental", False), "V": ("fricative", "labiodental", True),
        "TH": ("fricative", "dental", False), "DH": ("fricative", "dental", True),
        "S": ("fricative", "alveolar", False), "Z": ("fricative", "alveolar", True),
        "SH": ("fricative", "postalveolar", False), "ZH": ("fricative", "postalveolar", True),
        "HH": ("fricative", "glottal", False), "CH": ("affricate", "postalveolar", False),
        "JH": ("affricate", "postalveolar", True), "M": ("nasal", "bilabial", True),
        "N": ("nasal", "alveolar", True), "NG": ("nasal", "velar", True),
        "L": ("liquid", "alveolar", True), "R": ("liquid", "alveolar", True),
        "W": ("glide", "bilabial", True), "Y": ("glide", "palatal", True),
    }
)  # fmt: skip
_VOWEL_SHAPES: Final = MappingProxyType(
    {
        "IY": ("high", "front"), "IH": ("high", "front"), "EH": ("mid", "front"),
        "AE": ("low", "front"), "AH": ("mid", "central"), "ER": ("mid", "central"),
        "AA": ("low", "back"), "AO": ("mid", "back"), "UH": ("high", "back"),
        "UW": ("high", "back"), "EY": ("diphthong", "front"), "AY": ("diphthong", "front"),
        "OY": ("diphthong", "back"), "AW": ("diphthong", "back"),
        "OW": ("diphthong", "back"),
    }
)  # fmt: skip


def is_vowel(phone: str) -> bool:
    """Whether ``phone`` (ARPAbet, stress digit allowed) is a vowel or diphthong."""
    return phone.rstrip("012") in VOWELS


def articulation(phone: str) -> Articulation:
    """The articulatory class of an ARPAbet phone (stress digit allowed).

    Raises ``KeyError`` for a label that is not one of :data:`PHONES`.
    """
    bare = phone.rstrip("012")
    if bare in _CONSONANTS:
        manner, place, voiced = _CONSONANTS[bare]
        return Articulation("consonant", manner, place, voiced)
    height, backness = _VOWEL_SHAPES[bare]
    return Articulation("vowel", height, backness, True)
