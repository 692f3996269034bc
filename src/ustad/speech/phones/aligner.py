"""The phone stage: target words' phones aligned to a learner's audio and scored.

A CTC phoneme recogniser (``hama``'s 4.7 MB waveform-to-IPA model, 20 ms frames, from
the installed package) gives per-frame log-posteriors over IPA tokens; the tokens are
grouped into ARPAbet phones (:data:`~ustad.speech.phones.arpabet.RECOGNISER_TOKENS`;
the word-boundary token counts as blank). The target's phones (from
:class:`~ustad.speech.phones.pronouncing.Pronouncer`) are force-aligned with CTC
Viterbi (a word's dictionary variant is chosen by the alignment), then each phone is
scored on the frames from its left neighbour's start to its right neighbour's end:
GOP = log P(prev, phone, next) − max over alternatives of log P(prev, alt, next), the
alternatives being every other phone, no phone (deletion) and, before a word-initial
consonant cluster, an inserted vowel ("istation"). See
:mod:`ustad.speech.phones.scoring` for the scores and thresholds.

Blocking and CPU-bound: run it on the engine executor. No module-level state: each
:class:`PhoneAligner` owns its model sessions, one per calling thread (a session is
not safe to share, and one shared behind a lock made the engine threads take turns:
measured, two sessions on two threads ran six clips in 0.58 s against 0.93 s).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from ustad.speech.phones import scoring
from ustad.speech.phones.arpabet import PHONES, RECOGNISER_TOKENS, is_vowel
from ustad.speech.phones.ctc import ctc_forward, ctc_viterbi, label_emissions
from ustad.speech.phones.pronouncing import Pronouncer
from ustad.speech.phones.scoring import CONFUSIONS, phone_score, word_phones
from ustad.speech.phones.types import PhoneAlignmentError, PhoneResult, PhoneStatus, WordPhones
from ustad.speech.types import SAMPLE_RATE

__all__ = ["FRAME_SECONDS", "MAX_SECONDS", "PhoneAligner"]

FRAME_SECONDS: Final = 0.02
"""One recogniser frame: 320 samples at 16 kHz."""
MAX_SECONDS: Final = 60.0
"""Longest audio aligned (a spoken sentence is far shorter)."""
MAX_VARIANTS: Final = 3
"""Dictionary variants of a word tried by the alignment."""
INSERTED_VOWELS: Final = ("IH", "AH", "IY", "EH")
"""Vowels tried as inserted before a word-initial consonant cluster (epenthesis)."""

FloatArray = npt.NDArray[np.float64]
_INDEX: Final = {phone: i for i, phone in enumerate(PHONES)}


@dataclass(frozen=True)
class _Target:
    """The flattened phone sequence of the words and which word each phone is in."""

    phones: tuple[str, ...]
    word_of: tuple[int, ...]
    first_in_word: tuple[bool, ...]


class PhoneAligner:
    """Phones of target words, aligned and scored on 16 kHz mono audio.

    ``pronouncer`` defaults to a new :class:`Pronouncer`; ``model`` to ``hama``'s
    packaged ASR model (anything with its ``session`` / ``decoder_tokens``). With the
    packaged model each calling thread gets a copy of its own (4.7 MB, loaded on the
    thread's first call in about 0.1 s, which that call's time includes); a ``model``
    given is shared behind a lock.
    """

    def __init__(self, pronouncer: Pronouncer | None = None, *, model: Any = None) -> None:
        """Load the recogniser (about 0.1 s) and the dictionary unless given."""
        self._copy: Any = None
        if model is None:
            from hama import ASRModel

            model = ASRModel()
            self._copy = ASRModel
        self.pronouncer = pronouncer or Pronouncer()
        self._model = model
        self._lock = threading.Lock()
        self._local = threading.local()
        self._local.model = model  # the building thread uses the copy it loaded
        tokens: list[str] = list(model.decoder_tokens)
        self._groups = [[tokens.index(t) for t in RECOGNISER_TOKENS[p]] for p in PHONES]
        self._blanks = [tokens.index("<blank>"), tokens.index("<wb>")]
        session = model.session
        inputs = [node.name for node in session.get_inputs()]
        outputs = [node.name for node in session.get_outputs()]
        self._names = (
            _named(inputs, "waveform"),
            _named(inputs, "waveform_lengths"),
            _named(outputs, "log_probs"),
            _named(outputs, "out_lengths"),
        )

    def log_probs(self, samples: npt.NDArray[np.float32]) -> FloatArray:
        """Per-frame log-posteriors (T, V) of the recogniser's V tokens for 16 kHz mono
        float32 ``samples`` in [-1, 1]. Raises :class:`PhoneAlignmentError` for empty,
        non-finite or over-long (> :data:`MAX_SECONDS`) audio."""
        audio = np.asarray(samples, dtype=np.float32).reshape(-1)
        if audio.size == 0:
            raise PhoneAlignmentError("no audio to align")
        if audio.size > MAX_SECONDS * SAMPLE_RATE:
            raise PhoneAlignmentError(
                f"{audio.size / SAMPLE_RATE:.1f} s of audio is longer than {MAX_SECONDS:.0f} s"
            )
        if not np.all(np.isfinite(audio)):
            raise PhoneAlignmentError("audio has samples that are not finite")
        audio = np.clip(audio, -1.0, 1.0)
        wave_in, length_in, probs_out, lengths_out = self._names
        feeds = {wave_in: audio[None, :], length_in: np.array([audio.size], dtype=np.int64)}
        if self._copy is None:
            with self._lock:
                probs, lengths = self._model.session.run([probs_out, lengths_out], feeds)
        else:
            probs, lengths = self._session().run([probs_out, lengths_out], feeds)
        valid = int(np.asarray(lengths).reshape(-1)[0])
        return np.asarray(probs[0][:valid], dtype=np.float64)

    def _session(self) -> Any:
        """This thread's own session of the packaged model."""
        model = getattr(self._local, "model", None)
        if model is None:
            model = self._local.model = self._copy()
        return model.session

    def align(
        self, samples: npt.NDArray[np.float32], words: Sequence[str]
    ) -> tuple[WordPhones, ...]:
        """Each of ``words`` with its phones, times, GOP, score and status.

        Raises :class:`PhoneAlignmentError` when the audio is empty, too long, not
        finite, or too short for the words' phones. No words gives ``()``.
        """
        if not words:
            return ()
        return self.score(self.log_probs(samples), words)

    def score(self, log_probs: FloatArray, words: Sequence[str]) -> tuple[WordPhones, ...]:
        """:meth:`align` on log-posteriors already computed by :meth:`log_probs` (one
        recogniser pass serves several candidate sentences)."""
        classes, blank = self._class_emissions(log_probs)
        prons = [self.pronouncer.pronunciations(w)[:MAX_VARIANTS] for w in words]
        if not any(prons):
            return tuple(word_phones(w, ()) for w in words)
        choice = [0] * len(words)
        target = _flatten(prons, choice)
        try:
            best, starts, ends = self._viterbi(classes, blank, target.phones)
        except ValueError as error:  # fewer frames than the phones need
            raise PhoneAlignmentError(
                f"{len(classes) * FRAME_SECONDS:.2f} s of audio is too short "
                f"for {len(target.phones)} phones"
            ) from error
        for w, variants in enumerate(prons):
            for v in range(1, len(variants)):
                trial = [*choice[:w], v, *choice[w + 1 :]]
                candidate = _flatten(prons, trial)
                try:
                    got = self._viterbi(classes, blank, candidate.phones)
                except ValueError:
                    continue
                if got[0] > best:
                    choice, target, (best, starts, ends) = trial, candidate, got
        results = [
            self._phone(classes, blank, target, k, starts, ends) for k in range(len(target.phones))
        ]
        grouped: list[list[PhoneResult]] = [[] for _ in words]
        for k, result in enumerate(results):
            grouped[target.word_of[k]].append(result)
        return tuple(word_phones(w, grouped[i]) for i, w in enumerate(words))

    def _class_emissions(self, log_probs: FloatArray) -> tuple[FloatArray, FloatArray]:
        """(T, 39) log-probs of each ARPAbet phone and (T,) of blank."""
        classes = np.stack(
            [np.logaddexp.reduce(log_probs[:, g], axis=1) for g in self._groups], axis=1
        )
        blank = np.logaddexp.reduce(log_probs[:, self._blanks], axis=1)
        return classes, blank

    def _viterbi(
        self, classes: FloatArray, blank: FloatArray, phones: Sequence[str]
    ) -> tuple[float, list[int], list[int]]:
        labels = classes[:, [_INDEX[p] for p in phones]]
        return ctc_viterbi(label_emissions(blank, labels), phones)

    def _phone(
        self,
        classes: FloatArray,
        blank: FloatArray,
        target: _Target,
        k: int,
        starts: Sequence[int],
        ends: Sequence[int],
    ) -> PhoneResult:
        """GOP, score, status and what was heard for phone ``k`` of ``target``."""
        phones = target.phones
        count = len(phones)
        frames = len(blank)
        first = starts[k - 1] if k > 0 else 0
        last = ends[k + 1] if k + 1 < count else frames
        if k + 2 < count:
            last = max(last, starts[k + 2])
        before = (phones[k - 1],) if k > 0 else ()
        after = (phones[k + 1],) if k + 1 < count else ()
        window = slice(first, last)

        def likelihood(sequences: list[tuple[str, ...]]) -> FloatArray:
            idx = [[_INDEX[p] for p in seq] for seq in sequences]
            part = classes[window]
            labels = np.transpose(part[:, idx], (1, 0, 2)) if idx[0] else part[None, :, :0]
            edges = np.broadcast_to(blank[window], labels.shape[:2])
            return ctc_forward(label_emissions(edges, labels), sequences)

        own = phones[k]
        others = [p for p in PHONES if p != own]
        subs = likelihood([(*before, p, *after) for p in (own, *others)])
        alternatives: list[tuple[float, str]] = [
            (float(v), p) for v, p in zip(subs[1:], others, strict=True)
        ]
        alternatives.append((float(likelihood([(*before, *after)])[0]), ""))
        if target.first_in_word[k] and _starts_cluster(phones, target.word_of, k):
            inserted = likelihood([(*before, v, own, *after) for v in INSERTED_VOWELS])
            alternatives += [
                (float(v), f"{vowel} {own}")
                for v, vowel in zip(inserted, INSERTED_VOWELS, strict=True)
            ]
        target_ll = float(subs[0])
        rival, heard = max(alternatives)
        gop = target_ll - rival
        typical = CONFUSIONS.get(own, ())
        usual = [
            (v, label)
            for v, label in alternatives
            if label in typical or ("* S" in typical and label.endswith(f" {own}"))
        ]
        usual_gop, usual_heard = (
            (target_ll - max(usual)[0], max(usual)[1]) if usual else (np.inf, "")
        )
        limit = scoring.DELETION_THRESHOLD if usual_heard == "" else scoring.TYPICAL_THRESHOLD
        status: PhoneStatus = "ok"
        if usual_gop < limit:
            heard = max(usual)[1]
            status = "missing" if heard == "" else "mispronounced"
        elif gop < scoring.threshold(own):
            status = "missing" if heard == "" else "mispronounced"
        else:
            heard = ""
        return PhoneResult(
            phone=own,
            start=starts[k] * FRAME_SECONDS,
            end=max(ends[k], starts[k + 1] if k + 1 < count else ends[k]) * FRAME_SECONDS,
            gop=gop,
            score=phone_score(gop, own),
            status=status,
            heard=heard,
        )


def _flatten(prons: Sequence[Sequence[tuple[str, ...]]], choice: Sequence[int]) -> _Target:
    phones: list[str] = []
    word_of: list[int] = []
    first: list[bool] = []
    for w, variants in enumerate(prons):
        if not variants:
            continue
        for i, phone in enumerate(variants[choice[w]]):
            phones.append(phone)
            word_of.append(w)
            first.append(i == 0)
    return _Target(tuple(phones), tuple(word_of), tuple(first))


def _starts_cluster(phones: Sequence[str], word_of: Sequence[int], k: int) -> bool:
    """Whether phone ``k`` begins its word with two consonants ("st", "sp", "pl")."""
    return (
        k + 1 < len(phones)
        and word_of[k + 1] == word_of[k]
        and not is_vowel(phones[k])
        and not is_vowel(phones[k + 1])
    )


def _named(available: Sequence[str], wanted: str) -> str:
    """The model's tensor called ``wanted`` (or ``wanted.N``)."""
    for name in available:
        if name == wanted or name.startswith(f"{wanted}."):
            return name
    raise RuntimeError(f"the phone recogniser has no tensor {wanted!r} (has {list(available)})")
