"""English words to IPA phonemes with espeak-ng's letter-to-sound rules, via ctypes.

The grapheme-to-phoneme fallback of :mod:`ustad.speech.phones.pronouncing` for words
the pronouncing dictionary lacks (names, new words). espeak-ng keeps its state in C
globals, so, as for :class:`ustad.speech.espeak_tts.EspeakSynthesizer`, each instance
loads a private copy of the library (about 1.5 MB) and serialises its calls with a lock.
"""

from __future__ import annotations

import ctypes
import os
import threading
from pathlib import Path
from typing import Final

import espeakng_loader

from ustad.speech.espeak_tts import EspeakError, _load_private_copy

__all__ = ["EspeakPhonemizer"]

_AUDIO_OUTPUT_SYNCHRONOUS: Final = 2
_INITIALIZE_DONT_EXIT: Final = 0x8000
_CHARS_UTF8: Final = 1
_PHONEMES_IPA: Final = 0x02
"""espeak_TextToPhonemes' phonememode: bit 1 = IPA; bits 8-23 = the separator placed
between phonemes (speak_lib.h)."""
_SEPARATOR: Final = ord(" ") << 8


class EspeakPhonemizer:
    """IPA phonemes of English text from espeak-ng's rules (``en-us`` by default).

    Thread-safe: calls are serialised per instance. Raises :class:`EspeakError` when the
    library or its data cannot be loaded, or the voice is unknown.
    """

    def __init__(self, voice: str = "en-us", *, data_path: str | Path | None = None) -> None:
        """Load a private copy of libespeak-ng (from ``espeakng-loader``) and select ``voice``."""
        data = Path(data_path or espeakng_loader.get_data_path())
        self._lock = threading.Lock()
        self._lib = _load_private_copy(Path(espeakng_loader.get_library_path()))
        lib = self._lib
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetVoiceByName.restype = ctypes.c_int
        lib.espeak_TextToPhonemes.argtypes = [
            ctypes.POINTER(ctypes.c_char_p),
            ctypes.c_int,
            ctypes.c_int,
        ]
        lib.espeak_TextToPhonemes.restype = ctypes.c_char_p
        rate = lib.espeak_Initialize(
            _AUDIO_OUTPUT_SYNCHRONOUS, 0, os.fsencode(data), _INITIALIZE_DONT_EXIT
        )
        if rate <= 0:
            raise EspeakError(f"espeak-ng could not initialise with data from {data}")
        if lib.espeak_SetVoiceByName(voice.encode("utf-8")) != 0:
            raise EspeakError(f"espeak-ng could not select voice {voice!r}")

    def ipa_words(self, text: str) -> tuple[tuple[str, ...], ...]:
        """IPA phoneme tokens per word of ``text`` (stress marks kept, e.g. ``ˈɑː``).

        espeak-ng may join short words ("of the") into one group; the caller phonemises
        one word at a time when it needs a per-word result. Empty text gives ``()``.
        """
        return self._words(text, _PHONEMES_IPA)

    def mnemonic_words(self, text: str) -> tuple[tuple[str, ...], ...]:
        """espeak-ng's own phoneme mnemonics per word (``("v", "'E", "r", "i")``), the
        notation its ``[[...]]`` input takes; grouped as :meth:`ipa_words`."""
        return self._words(text, 0)

    def _words(self, text: str, mode: int) -> tuple[tuple[str, ...], ...]:
        encoded = text.strip().encode("utf-8")
        if not encoded:
            return ()
        buffer = ctypes.create_string_buffer(encoded)
        pointer = ctypes.c_char_p(ctypes.addressof(buffer))
        clauses: list[str] = []
        with self._lock:
            while pointer.value:
                out = self._lib.espeak_TextToPhonemes(
                    ctypes.byref(pointer), _CHARS_UTF8, mode | _SEPARATOR
                )
                if out is None:
                    break
                clauses.append(out.decode("utf-8", errors="replace"))
        words: list[tuple[str, ...]] = []
        for clause in clauses:
            for group in clause.split("  "):
                tokens = tuple(token for token in group.split(" ") if token)
                if tokens:
                    words.append(tokens)
        return tuple(words)
