"""Sound keys of Urdu sentences, written in Urdu script, Roman Urdu or Devanagari.

Each word becomes two keys: ``full`` (letters folded into sound classes: ت/ط, س/ص/ث,
ز/ذ/ض/ظ, ک/ق, ح/ہ/ھ, ا/ع are one sound each; word-final ہ is the vowel a) and
``skeleton`` (consonants only, voicing pairs b/p, t/d, k/g, j/ch merged). A misheard
word keeps most of its consonants; a different word does not. Roman Urdu gets keys of
its own, comparable only with other Roman Urdu; Devanagari (Whisper often labels spoken
Urdu as Hindi) is keyed into the Urdu sound classes, so it compares with Urdu script.
Keying never raises: text without words gives a sentence without words.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise
from typing import Final, Literal, NamedTuple

from ustad.speech.urdu_text import normalize_urdu, script_of

MatchedOn = Literal["urdu", "roman", "devanagari"]
"""Which keys a text was compared on (by its script)."""

# Urdu letters -> sound classes. Lower case: ordinary consonants and the vowel letters
# a (ا آ ع), w (و), y (ی ے); upper case: letters that must stay distinct (ٹ T, ڈ D, ڑ R,
# ش S, غ G) and N, the nasal ں, a vowel feature that Whisper often drops.
_URDU_SOUNDS: Final = str.maketrans(
    {
        **dict.fromkeys("اآعأإ", "a"),
        "ب": "b",
        "پ": "p",
        **dict.fromkeys("تطۃ", "t"),
        "ٹ": "T",
        **dict.fromkeys("ثسص", "s"),
        "ج": "j",
        "چ": "c",
        **dict.fromkeys("حہۂھ", "h"),
        "خ": "x",
        "غ": "G",
        "د": "d",
        "ڈ": "D",
        **dict.fromkeys("ذزضظژ", "z"),
        "ر": "r",
        "ڑ": "R",
        "ش": "S",
        "ف": "f",
        **dict.fromkeys("قک", "k"),
        "گ": "g",
        "ل": "l",
        "م": "m",
        "ن": "n",
        "ں": "N",
        **dict.fromkeys("وؤ", "w"),
        **dict.fromkeys("یے", "y"),
        # Hamza seats: چائے / چاۓ / چاے are one word to a listener.
        "ئ": None,
        "ء": None,
        **{chr(0x06F0 + d): str(d) for d in range(10)},
    }
)
# Skeleton: vowel classes dropped; voicing pairs and near-homophones merged.
_SKELETON: Final = str.maketrans("pdDgjGR", "btTkcxr", "awyN")

# Devanagari -> the same sound classes, spelled the way Urdu writes the word: short
# vowels (ि ु and inherent a) unwritten, long vowels as ا/و/ی, aspirates as letter + h.
_DEVANAGARI_SOUNDS: Final = str.maketrans(
    {
        "क": "k",
        "ख": "kh",
        "ग": "g",
        "घ": "gh",
        "च": "c",
        "छ": "ch",
        "ज": "j",
        "झ": "jh",
        "ट": "T",
        "ठ": "Th",
        "ड": "D",
        "ढ": "Dh",
        "ण": "n",
        "त": "t",
        "थ": "th",
        "द": "d",
        "ध": "dh",
        "न": "n",
        "प": "p",
        "फ": "ph",
        "ब": "b",
        "भ": "bh",
        "म": "m",
        "य": "y",
        "र": "r",
        "ल": "l",
        "व": "w",
        "श": "S",
        "ष": "S",
        "स": "s",
        "ह": "h",
        "ा": "a",
        "ी": "y",
        "े": "y",
        "ै": "y",
        "ू": "w",
        "ो": "w",
        "ौ": "w",
        "ं": "N",
        "ँ": "N",
        "ि": None,
        "ु": None,
        "्": None,
        "़": None,
        "ः": None,
        "ॉ": "w",
        **{chr(0x0966 + d): str(d) for d in range(10)},
    }
)
# Nukta letters (decomposed by NFC) whose sound differs from the base letter.
_DEVANAGARI_NUKTA: Final = (
    ("ड़", "R"),
    ("ढ़", "Rh"),
    ("ज़", "z"),
    ("फ़", "f"),
    ("ख़", "x"),
    ("ग़", "G"),
)
# Independent vowels: alif at the start of a word (as Urdu writes it), bare inside.
_DEVANAGARI_VOWELS: Final = {
    "अ": ("a", ""),
    "आ": ("a", "a"),
    "इ": ("a", "y"),
    "ई": ("ay", "y"),
    "उ": ("a", "w"),
    "ऊ": ("aw", "w"),
    "ए": ("ay", "y"),
    "ऐ": ("ay", "y"),
    "ओ": ("aw", "w"),
    "औ": ("aw", "w"),
}

_ROMAN_VOWELS: Final = frozenset("aeiouy")
_ROMAN_SKELETON: Final = str.maketrans("", "", "aeiouy")
_ROMAN_FOLD: Final = str.maketrans("qw", "kv")
_ROMAN_FINAL_E_RE: Final = re.compile(r"(?<=\w)(?:ai|ay|ae)$")

# Word characters plus the Devanagari vowel signs and virama, which are not ``\w``.
_WORD_RE: Final = re.compile("[\\w\u0900-\u0963\u0966-\u097f]+")
_RUN_RE: Final = re.compile(r"(.)\1+")


class SoundWord(NamedTuple):
    """One word's two sound keys: ``full`` and ``skeleton`` (see the module docs)."""

    full: str
    skeleton: str


@dataclass(frozen=True)
class KeyedSentence:
    """A sentence as sound-keyed words, ready for alignment.

    ``pairs`` holds each word joined with the next, for split or joined words;
    ``joined`` is the whole key without spaces, for the shortlist and exact hits.
    """

    words: tuple[SoundWord, ...]
    pairs: tuple[SoundWord, ...]
    joined: str


def _urdu_word(word: str) -> SoundWord:
    return _sound_word(word.translate(_URDU_SOUNDS))


def _devanagari_word(word: str) -> SoundWord:
    for letter, sound in _DEVANAGARI_NUKTA:
        word = word.replace(letter, sound)
    spelled = []
    for position, char in enumerate(word):
        vowel = _DEVANAGARI_VOWELS.get(char)
        spelled.append(char if vowel is None else vowel[0 if position == 0 else 1])
    return _sound_word("".join(spelled).translate(_DEVANAGARI_SOUNDS))


def _sound_word(full: str) -> SoundWord:
    # Word-final ہ after a consonant is the vowel a (کمرہ/کمرا, انچہ/اونچا).
    if len(full) > 1 and full[-1] == "h":
        full = full[:-1] + "a"
    # Initial و/ی are the consonants w/y; elsewhere they are vowels, left out.
    if full[:1] in ("w", "y"):
        skeleton = full[0] + full[1:].translate(_SKELETON)
    else:
        skeleton = full.translate(_SKELETON)
    # No run-collapsing: Urdu script doubles a consonant only when it is said twice (چچا).
    return SoundWord(full.replace("N", "n"), skeleton)


def _roman_word(word: str) -> SoundWord:
    # Roman Urdu spelling is loose: "paani"/"pani", "theek"/"thik", "qalam"/"kalam",
    # "hai"/"he"/"hay", "yeh"/"ye".
    full = _RUN_RE.sub(r"\1", word.replace("ee", "i").replace("oo", "u").translate(_ROMAN_FOLD))
    full = _ROMAN_FINAL_E_RE.sub("e", full)
    if len(full) > 2 and full[-1] == "h" and full[-2] in _ROMAN_VOWELS:
        full = full[:-1]
    skeleton = full[:1] + full[1:].translate(_ROMAN_SKELETON)
    # A final n after a vowel is usually the nasal vowel (hain, mein, dayen): like ں in
    # Urdu script it is left out of the skeleton, so "dayen"/"bayen" differ in full.
    if len(full) > 2 and full[-1] == "n" and full[-2] in _ROMAN_VOWELS:
        skeleton = skeleton[:-1]
    return SoundWord(full, _RUN_RE.sub(r"\1", skeleton.lstrip("aeiou")))


def _keyed(raw_words: list[str], key: Callable[[str], SoundWord]) -> KeyedSentence:
    # Pairs are keyed from the written words joined, exactly as a recogniser's joined word
    # would be (word-final ہ of the first word is then medial, for instance).
    keyed = [(raw, key(raw)) for raw in raw_words]
    kept = [raw for raw, word in keyed if word.full]
    words = tuple(word for _, word in keyed if word.full)
    pairs = tuple(key(a + b) for a, b in pairwise(kept))
    return KeyedSentence(words, pairs, "".join(w.full for w in words))


def urdu_keys(text: str) -> KeyedSentence:
    """Sound-keyed words of an Urdu-script sentence."""
    return _keyed(_WORD_RE.findall(normalize_urdu(text)), _urdu_word)


def devanagari_keys(text: str) -> KeyedSentence:
    """Sound-keyed words of Urdu/Hindi written in Devanagari, comparable with Urdu keys."""
    return _keyed(_WORD_RE.findall(normalize_urdu(text)), _devanagari_word)


def roman_keys(text: str) -> KeyedSentence:
    """Sound-keyed words of a Roman Urdu sentence (case and punctuation ignored)."""
    return _keyed(_WORD_RE.findall(text.lower()), _roman_word)


def keys_for(text: str) -> tuple[KeyedSentence, MatchedOn]:
    """The sentence keyed by its script, and which keys those are."""
    script = script_of(text)
    if script == "latin":
        return roman_keys(text), "roman"
    if script == "devanagari":
        return devanagari_keys(text), "devanagari"
    return urdu_keys(text), "urdu"
