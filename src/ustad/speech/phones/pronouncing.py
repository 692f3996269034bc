"""How target words are pronounced: the CMU dictionary, then espeak-ng's rules.

The dictionary is ``cmudict-en-us.dict`` as shipped inside the ``pocketsphinx`` wheel
(CMU Pronouncing Dictionary, BSD-style licence), read from the installed package; it
writes ARPAbet without stress digits and marks variants ``word(2)``. A word it lacks is
tried as a possessive ("Mandy's" = Mandy + Z), as hyphen or apostrophe parts, and last
through espeak-ng's letter-to-sound rules (:class:`EspeakPhonemizer`) mapped to
ARPAbet. Written forms said as words ("2", "50%") go through ustad's English
normaliser (:func:`ustad.text.english.spoken_english`) first.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import Final

from ustad.speech.phones.arpabet import PHONES, ipa_to_arpabet, is_vowel
from ustad.speech.phones.espeak_phonemes import EspeakPhonemizer
from ustad.text.english import spoken_english

__all__ = ["Pronouncer", "cmudict_path"]

Pronunciation = tuple[str, ...]
_KNOWN: Final = frozenset(PHONES)
_VARIANT_RE: Final = re.compile(r"\(\d+\)$")
_EDGES: Final = "\"'()[]{}.,;:!?“”‘’«»…-"
_VOICELESS_END: Final = frozenset({"P", "T", "K", "F", "TH"})
_SIBILANT_END: Final = frozenset({"S", "Z", "SH", "ZH", "CH", "JH"})


def cmudict_path() -> Path:
    """The CMU dictionary file inside the installed ``pocketsphinx`` package.

    Raises ``FileNotFoundError`` when the package or the file is missing.
    """
    path = Path(str(resources.files("pocketsphinx").joinpath("model/en-us/cmudict-en-us.dict")))
    if not path.is_file():
        raise FileNotFoundError(f"no CMU dictionary in the pocketsphinx package at {path}")
    return path


def read_cmudict(lines: Iterable[str]) -> dict[str, tuple[Pronunciation, ...]]:
    """Parse CMU-dictionary lines (``word(2) PH PH ...``; ``;;;`` comments) into
    word -> its pronunciations in file order (ARPAbet, stress digits removed).
    Lines with a label outside the 39 phones are skipped."""
    found: dict[str, list[Pronunciation]] = {}
    for line in lines:
        parts = line.split()
        if len(parts) < 2 or parts[0].startswith(";;;"):
            continue
        phones = tuple(p.rstrip("012") for p in parts[1:])
        if "#" in phones:  # a trailing comment
            phones = phones[: phones.index("#")]
        if not phones or not set(phones) <= _KNOWN:
            continue
        word = _VARIANT_RE.sub("", parts[0]).lower()
        found.setdefault(word, []).append(phones)
    return {word: tuple(prons) for word, prons in found.items()}


class Pronouncer:
    """Pronunciations of English words (ARPAbet tuples), most usual first.

    Loads the dictionary (about 135 000 words, ~0.7 s) on the first lookup, so an app
    that never asks pays nothing; create one per engine and share it (lookups are
    thread-safe; the loading and the espeak-ng fallback are serialised). ``dictionary``
    replaces the packaged one (tests).
    """

    def __init__(self, dictionary: dict[str, tuple[Pronunciation, ...]] | None = None) -> None:
        """Use ``dictionary``, or the packaged CMU dictionary (read on first use)."""
        self._loaded = dictionary
        self._load_lock = threading.Lock()
        self._espeak: EspeakPhonemizer | None = None
        self._espeak_lock = threading.Lock()

    def load(self) -> None:
        """Read the dictionary now (about 0.7 s of CPU for the packaged one), so the first
        attempt that needs it does not pay for it; blocking, idempotent."""
        _ = self._dict

    @property
    def loaded(self) -> bool:
        """Whether the dictionary has been read (or was given)."""
        return self._loaded is not None

    @property
    def _dict(self) -> dict[str, tuple[Pronunciation, ...]]:
        """The dictionary, read from the package the first time it is needed."""
        loaded = self._loaded
        if loaded is None:
            with self._load_lock:
                if self._loaded is None:
                    with cmudict_path().open(encoding="utf-8") as handle:
                        self._loaded = read_cmudict(handle)
                loaded = self._loaded
        return loaded

    def pronunciations(self, word: str) -> tuple[Pronunciation, ...]:
        """The ways ``word`` is said (each an ARPAbet tuple), most usual first.

        A written form said as several words ("2024", "50%") is their pronunciations
        joined (first variant each). Returns ``()`` for a word with nothing to say
        (punctuation only).
        """
        core = word.strip().strip(_EDGES).lower().replace("’", "'")
        if not core:
            return ()
        if any(ch.isdigit() for ch in core) or not _is_plain(core):
            spoken = [w.strip(_EDGES).lower() for w in spoken_english(word).split()]
            spoken = [w for w in spoken if w]
            if spoken != [core]:
                joined: list[str] = []
                for part in spoken:
                    prons = self._plain(part)
                    if prons:
                        joined.extend(prons[0])
                return (tuple(joined),) if joined else ()
        return self._plain(core)

    def phones(self, word: str) -> Pronunciation:
        """The most usual pronunciation of ``word`` (``()`` if nothing to say)."""
        prons = self.pronunciations(word)
        return prons[0] if prons else ()

    def in_dictionary(self, word: str) -> bool:
        """Whether ``word`` (lower-cased, edges stripped) is a dictionary entry."""
        return word.strip().strip(_EDGES).lower() in self._dict

    def _plain(self, core: str) -> tuple[Pronunciation, ...]:
        if core in self._dict:
            return self._dict[core]
        if core.endswith("'s") and core[:-2] in self._dict:
            return tuple(_with_s(p) for p in self._dict[core[:-2]])
        parts = [p for p in re.split(r"[-']", core) if p]
        if len(parts) > 1 and all(p in self._dict for p in parts):
            return (tuple(ph for p in parts for ph in self._dict[p][0]),)
        guessed = self._guess(core)
        return (guessed,) if guessed else ()

    def _guess(self, core: str) -> Pronunciation:
        """espeak-ng's letter-to-sound rules for a word the dictionary lacks."""
        letters = re.sub(r"[^a-z']", "", core)
        if not letters:
            return ()
        with self._espeak_lock:
            if self._espeak is None:
                self._espeak = EspeakPhonemizer()
            espeak = self._espeak
        groups = espeak.ipa_words(letters)
        return tuple(ph for group in groups for ph in ipa_to_arpabet(group))


def _is_plain(core: str) -> bool:
    return all(ch.isalpha() or ch in "'-" for ch in core)


def _with_s(pron: Pronunciation) -> Pronunciation:
    """A possessive or plural -s after ``pron``: IH Z after a sibilant, S after a
    voiceless consonant, Z otherwise."""
    last = pron[-1]
    if last in _SIBILANT_END:
        return (*pron, "IH", "Z")
    if last in _VOICELESS_END and not is_vowel(last):
        return (*pron, "S")
    return (*pron, "Z")
