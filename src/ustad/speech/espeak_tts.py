"""Urdu (or any espeak-ng language) speech with espeak-ng, via ctypes.

The library and its data come from the ``espeakng-loader`` wheel, so no system package
is needed. espeak-ng keeps all its state (voice, rate, output callback, sample buffers)
in C globals of the loaded library. Two things follow:

- Calls into one loaded copy must never overlap: each synthesizer serialises them
  with its own lock.
- ``dlopen`` of the same file returns the same copy, so two synthesizers loading the
  wheel's ``libespeak-ng.so`` would silently share (and fight over) that state. Each
  synthesizer therefore loads a private copy of the library from an anonymous in-memory
  file: instances are independent (different voices and rates, running in parallel)
  and no process-wide registry is needed. A copy costs about 1.5 MB and lives until
  the process exits, so create one instance per voice at start-up, not per request.
"""

from __future__ import annotations

import ctypes
import os
import tempfile
import threading
from pathlib import Path
from typing import Final

import espeakng_loader
import numpy as np
import numpy.typing as npt

from ustad.speech.types import Language, Pcm
from ustad.text.english import voice_english
from ustad.text.urdu import spoken_urdu

__all__ = ["EspeakError", "EspeakSynthesizer", "EspeakVoiceNotFoundError"]

# Values from espeak-ng's speak_lib.h.
_AUDIO_OUTPUT_SYNCHRONOUS: Final = 2  # synthesise in the calling thread, into the callback
_INITIALIZE_DONT_EXIT: Final = 0x8000  # report a missing data dir instead of exit()
_CHARS_UTF8: Final = 1
_PHONEMES: Final = 0x100  # espeakPHONEMES: [[...]] in the text is phoneme mnemonics
_POS_CHARACTER: Final = 1
_PARAM_RATE: Final = 1
_EE_OK: Final = 0
_EE_NOT_FOUND: Final = 2

DEFAULT_RATE: Final = 175
"""espeak-ng's default speaking rate in words per minute (speed 1.0)."""
_MIN_RATE: Final = 80
_MAX_RATE: Final = 450

_SynthCallback = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p
)


class EspeakError(RuntimeError):
    """espeak-ng could not be loaded, initialised, or could not synthesise."""


class EspeakVoiceNotFoundError(EspeakError):
    """The requested voice is not in the espeak-ng data."""


class EspeakSynthesizer:
    """A :class:`~ustad.speech.types.Synthesizer` speaking one espeak-ng voice.

    Calls are serialised per instance (see the module docstring); create one instance
    per voice and share it between sessions.
    """

    engine = "espeak-ng"

    def __init__(
        self,
        voice: str = "ur",
        *,
        language: Language = "ur",
        rate: int = DEFAULT_RATE,
        library_path: str | Path | None = None,
        data_path: str | Path | None = None,
    ) -> None:
        """Load a private copy of libespeak-ng and select ``voice``.

        ``rate`` is the speaking rate (words per minute) at speed 1.0. The library and
        data default to those shipped in ``espeakng-loader``.
        """
        if not _MIN_RATE <= rate <= _MAX_RATE:
            raise ValueError(f"rate must be between {_MIN_RATE} and {_MAX_RATE} wpm, got {rate}")
        self.voice = voice
        self.language: Language = language
        self.rate = rate
        self._lock = threading.Lock()
        self._chunks: list[npt.NDArray[np.int16]] = []
        # Held by the instance: the C side keeps only a raw pointer to this trampoline,
        # so it must live as long as the library copy that calls it.
        self._callback = _SynthCallback(self._collect)

        library = Path(library_path or espeakng_loader.get_library_path())
        data = Path(data_path or espeakng_loader.get_data_path())
        if not (data / "phontab").is_file():
            raise EspeakError(f"not an espeak-ng data directory (no phontab): {data}")
        self._lib = _load_private_copy(library)
        _declare_signatures(self._lib)

        self.sample_rate: int = self._lib.espeak_Initialize(
            _AUDIO_OUTPUT_SYNCHRONOUS, 0, os.fsencode(data), _INITIALIZE_DONT_EXIT
        )
        if self.sample_rate <= 0:
            raise EspeakError(f"espeak-ng could not initialise with data from {data}")
        self._lib.espeak_SetSynthCallback(self._callback)
        status = self._lib.espeak_SetVoiceByName(voice.encode("utf-8"))
        if status == _EE_NOT_FOUND:
            raise EspeakVoiceNotFoundError(f"espeak-ng has no voice named {voice!r} in {data}")
        if status != _EE_OK:
            raise EspeakError(f"espeak-ng could not select voice {voice!r} (error {status})")

    def synthesize(self, text: str, *, speed: float = 1.0) -> Pcm:
        """Speak ``text``; ``speed`` scales the words-per-minute rate (clamped to 80-450).

        The text is first put in its spoken form (:func:`ustad.text.urdu.spoken_urdu`
        for Urdu: numbers in any of the three digit scripts are said;
        :func:`ustad.text.english.voice_english` for English); markup, emoji and control
        characters are never read out. Text with nothing left to say gives no samples.
        """
        if not text or not text.strip():
            raise ValueError("nothing to synthesise: text is empty")
        if speed <= 0:
            raise ValueError(f"speed must be positive, got {speed}")
        rate = min(_MAX_RATE, max(_MIN_RATE, round(self.rate * speed)))
        spoken = voice_english(text) if self.language == "en" else spoken_urdu(text)
        if not spoken:
            return Pcm(np.zeros(0, dtype=np.int16), self.sample_rate)
        return self._synth(spoken, rate, 0)

    def synthesize_phonemes(self, text: str, *, speed: float = 1.0) -> Pcm:
        """Speak ``text`` as written, where ``[[...]]`` holds espeak-ng phoneme mnemonics
        ("I said [[w'Eri]] good"): the controlled mispronunciations of
        benchmarks/phone_quality.py. No normalisation: the caller writes what is said."""
        if not text or not text.strip():
            raise ValueError("nothing to synthesise: text is empty")
        if speed <= 0:
            raise ValueError(f"speed must be positive, got {speed}")
        rate = min(_MAX_RATE, max(_MIN_RATE, round(self.rate * speed)))
        return self._synth(text, rate, _PHONEMES)

    def _synth(self, spoken: str, rate: int, flags: int) -> Pcm:
        """Synthesise ``spoken`` at ``rate`` wpm with espeak_Synth ``flags`` added."""
        encoded = spoken.encode("utf-8")
        with self._lock:
            # The callback appends to self._chunks; only the lock holder touches it.
            self._chunks = []
            try:
                self._lib.espeak_SetParameter(_PARAM_RATE, rate, 0)
                status = self._lib.espeak_Synth(
                    encoded,
                    len(encoded) + 1,
                    0,
                    _POS_CHARACTER,
                    0,
                    _CHARS_UTF8 | flags,
                    None,
                    None,
                )
                chunks = self._chunks
            finally:
                self._chunks = []
        if status != _EE_OK:
            raise EspeakError(f"espeak-ng failed to synthesise (error {status})")
        samples = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int16)
        return Pcm(samples, self.sample_rate)

    def _collect(
        self,
        wav: ctypes._Pointer[ctypes.c_short],
        count: int,
        _events: int | None,
    ) -> int:
        """Synth callback: copy out each block of samples (0 = keep going)."""
        if count > 0 and wav:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(count,)).astype(np.int16))
        return 0


def _load_private_copy(library: Path) -> ctypes.CDLL:
    """Load ``library`` from a fresh anonymous file so the caller gets its own copy.

    The copy is never unloaded (ctypes does not ``dlclose``), and the in-memory file's
    descriptor deliberately stays open with it: the dynamic loader recognises loaded
    libraries by path first, so a closed descriptor's ``/proc/self/fd/N`` path, reused
    by a later load, would hand back this same copy instead of a new one.
    """
    try:
        image = library.read_bytes()
    except OSError as error:
        raise EspeakError(f"cannot read libespeak-ng at {library}: {error}") from error
    try:
        if hasattr(os, "memfd_create"):
            fd = os.memfd_create("libespeak-ng", os.MFD_CLOEXEC)
            try:
                os.write(fd, image)
                return ctypes.CDLL(f"/proc/self/fd/{fd}")
            except OSError:
                os.close(fd)
                raise
        # No memfd (not Linux): a uniquely named temporary file, removed once mapped.
        with tempfile.NamedTemporaryFile(suffix=library.suffix, delete=False) as handle:
            handle.write(image)
        try:
            return ctypes.CDLL(handle.name)
        finally:
            os.unlink(handle.name)
    except OSError as error:
        raise EspeakError(f"cannot load libespeak-ng from {library}: {error}") from error


def _declare_signatures(lib: ctypes.CDLL) -> None:
    """C signatures of the few espeak-ng calls used (ctypes would guess them wrong)."""
    lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
    lib.espeak_Initialize.restype = ctypes.c_int
    lib.espeak_SetSynthCallback.argtypes = [_SynthCallback]
    lib.espeak_SetSynthCallback.restype = None
    lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
    lib.espeak_SetVoiceByName.restype = ctypes.c_int
    lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
    lib.espeak_SetParameter.restype = ctypes.c_int
    lib.espeak_Synth.argtypes = [
        ctypes.c_char_p,  # text
        ctypes.c_size_t,  # size in bytes, including the terminating NUL
        ctypes.c_uint,  # position
        ctypes.c_int,  # position type
        ctypes.c_uint,  # end position (0 = none)
        ctypes.c_uint,  # flags
        ctypes.c_void_p,  # unique identifier out (unused)
        ctypes.c_void_p,  # user data (unused)
    ]
    lib.espeak_Synth.restype = ctypes.c_int
