"""Speech recognition with faster-whisper (CTranslate2 Whisper models on the CPU)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from faster_whisper import WhisperModel

from ustad.speech.model_paths import validate_whisper_dir
from ustad.speech.types import SAMPLE_RATE, Audio, Task, Transcript, Word

DEFAULT_TEMPERATURES: tuple[float, ...] = (0.0, 0.4, 0.8)
"""Greedy first; sampled retries only when a window fails Whisper's own checks.

Measured with tiny.en on 150 speechocean762 learner clips: WER 0.358 with these
retries against 0.368 greedy-only, for about 10 % more time on average. Retries fire
on ~6 % of clips (unclear speech, mean log-prob below -1) and cost 0.2-0.45 s each
there; being sampled, those clips are not bit-for-bit repeatable. Whisper's own
six-step ladder only adds latency on the hardest clips.
"""

REPETITION_COMPRESSION_RATIO = 2.4
"""gzip ratio above which a window's text is a repetition loop (Whisper's own threshold).

faster-whisper already retries such windows at higher temperatures; one still above
it after every retry is a hallucination and is dropped. The ratio comes with every
segment, so this guard costs nothing.
"""

TOKENS_PER_SECOND = 24
"""Decoding budget per second of audio (plus ``_TOKEN_ALLOWANCE``).

Real speech stays far below it (Urdu script, the costliest, measured about 8 tokens/s;
fast speech might reach 15). A repetition loop otherwise runs to Whisper's 448-token
limit at every fallback temperature: measured 28 s for 3 s of silence with
``language="ur"``, the one case where Whisper does not skip silence.
"""
_TOKEN_ALLOWANCE = 16
# Whisper's 448-token context minus the longest prompt (start, language, task, no-timestamps).
_MAX_NEW_TOKENS = 440

_LOG_PROB_RETRY = -1.0
"""Whisper's default: a window whose mean token log-prob is lower is decoded again."""


class WhisperTranscriber:
    """A faster-whisper model loaded once, used for many blocking calls.

    Calls may come from several executor threads at once: CTranslate2 models are
    thread-safe and run up to ``num_workers`` calls in parallel (its ``inter_threads``),
    each using ``cpu_threads`` cores; further calls wait in CTranslate2's queue. Every
    worker holds its own copy of the weights, so memory grows with ``num_workers``.
    """

    def __init__(
        self,
        model_dir: Path,
        *,
        name: str = "whisper",
        compute_type: str = "int8",
        cpu_threads: int = 2,
        beam_size: int = 1,
        num_workers: int = 1,
        temperatures: Sequence[float] = DEFAULT_TEMPERATURES,
    ) -> None:
        if beam_size < 1:
            raise ValueError(f"beam_size must be at least 1, got {beam_size}")
        if num_workers < 1:
            raise ValueError(f"num_workers must be at least 1, got {num_workers}")
        if not temperatures:
            raise ValueError("temperatures must not be empty")
        self.name = name
        self._beam_size = beam_size
        self._temperatures = tuple(temperatures)
        self._model = WhisperModel(
            # Validated first: faster-whisper treats a missing dir as a hub model name.
            str(validate_whisper_dir(model_dir)),
            device="cpu",
            compute_type=compute_type,
            cpu_threads=cpu_threads,
            num_workers=num_workers,
            local_files_only=True,
        )
        self._languages = frozenset(self._model.supported_languages)

    @property
    def multilingual(self) -> bool:
        """False for English-only (``.en``) models."""
        return bool(self._model.model.is_multilingual)

    def transcribe(
        self,
        audio: Audio,
        *,
        language: str | None = None,
        task: Task = "transcribe",
        word_timestamps: bool = False,
    ) -> Transcript:
        """Transcribe (or translate to English) one utterance of at most ~30 s.

        ``language=None`` detects the language first (an English-only model always
        reports ``en`` with probability 1); a forced language reports probability 1.
        Word texts keep attached punctuation (``study.``).

        Silence: on pure silence and faint noise every model and language tried gives
        no segments (Whisper rates the window as no speech), so the text is empty,
        ``no_speech_probability`` is 1.0 and ``avg_logprob`` 0.0. Base forced to
        ``ur`` first decodes a repetition loop there, which the token budget keeps
        short and which never reaches the text. Callers still check for speech first,
        as the runtime does: a short silence after speech can come back as a filler
        such as "Thank you.".
        """
        self._check_request(language, task)
        samples = _samples(audio)
        if samples.size == 0:
            return Transcript(
                text="", language=language or "en", language_probability=0.0, duration=0.0
            )
        segments_iter, info = self._model.transcribe(
            samples,
            language=language,
            task=task,
            beam_size=self._beam_size,
            temperature=list(self._temperatures),
            # The runtime has already found speech in the utterance; Silero VAD again
            # would only cost time and could clip quiet word edges.
            vad_filter=False,
            # Utterances are one window long; conditioning only helps long-form audio
            # and is the usual source of repetition loops.
            condition_on_previous_text=False,
            # Segment timestamps are only needed with word timings: faster-whisper then
            # moves to the last word's end and, without a closing timestamp token,
            # decodes the trailing silence again (measured: an extra "Thank you." and
            # twice the time). Plain text skips them and decodes fewer tokens.
            without_timestamps=not word_timestamps,
            word_timestamps=word_timestamps,
            # Whisper's speech translations score below the -1 log-prob retry threshold
            # almost always, so retrying on it re-decoded nearly every utterance
            # (measured 2.5 s instead of 1.2 s on a 5.5 s clip) for no better English;
            # translations are retried only for repetition loops (compression ratio).
            log_prob_threshold=None if task == "translate" else _LOG_PROB_RETRY,
            max_new_tokens=_token_budget(audio.duration),
        )
        # The segments are a lazy generator: decoding happens here, inside the call.
        decoded = list(segments_iter)
        segments = [s for s in decoded if not _is_repetition(s)]
        return Transcript(
            text="".join(s.text for s in segments).strip(),
            language=info.language if self.multilingual else "en",
            language_probability=float(info.language_probability) if self.multilingual else 1.0,
            duration=audio.duration,
            words=tuple(_words(segments)) if word_timestamps else (),
            no_speech_probability=_no_speech_probability(decoded),
            avg_logprob=_weighted_avg_logprob(segments),
        )

    def detect_language(self, audio: Audio) -> tuple[str, float, dict[str, float]]:
        """Most likely language, its probability and the five most likely (multilingual only).

        Uses the first 30 s of the utterance.
        """
        if not self.multilingual:
            raise ValueError(f"{self.name} is an English-only model; it cannot identify languages")
        samples = _samples(audio)
        if samples.size == 0:
            raise ValueError("cannot identify the language of empty audio")
        language, probability, ranked = self._model.detect_language(audio=samples)
        top = {str(code): float(p) for code, p in ranked[:5]}
        return str(language), float(probability), top

    def _check_request(self, language: str | None, task: str) -> None:
        if task not in ("transcribe", "translate"):
            raise ValueError(f"unknown task {task!r}; use 'transcribe' or 'translate'")
        if not self.multilingual:
            if task == "translate":
                raise ValueError(f"{self.name} is an English-only model; it cannot translate")
            if language not in (None, "en"):
                raise ValueError(f"{self.name} is an English-only model; got language {language!r}")
        elif language is not None and language not in self._languages:
            raise ValueError(f"Whisper does not know the language code {language!r}")


def _samples(audio: Audio) -> np.ndarray[Any, np.dtype[np.float32]]:
    if audio.sample_rate != SAMPLE_RATE:
        raise ValueError(f"Whisper needs {SAMPLE_RATE} Hz audio, got {audio.sample_rate} Hz")
    if audio.samples.ndim != 1:
        raise ValueError("Whisper needs mono audio (a 1-D sample array)")
    return np.ascontiguousarray(audio.samples, dtype=np.float32)


def _token_budget(seconds: float) -> int:
    return min(_MAX_NEW_TOKENS, _TOKEN_ALLOWANCE + math.ceil(seconds * TOKENS_PER_SECOND))


def _is_repetition(segment: Any) -> bool:
    return float(segment.compression_ratio) > REPETITION_COMPRESSION_RATIO


def _words(segments: Sequence[Any]) -> list[Word]:
    words = []
    for segment in segments:
        for word in segment.words or ():
            text = word.word.strip()
            if text:
                words.append(
                    Word(
                        text=text,
                        start=float(word.start),
                        end=float(word.end),
                        probability=float(word.probability),
                    )
                )
    return words


def _no_speech_probability(segments: Sequence[Any]) -> float:
    # No segments at all means Whisper judged every window silent (no-speech probability
    # above 0.6 with a low log-prob) and skipped it.
    if not segments:
        return 1.0
    return max(float(s.no_speech_prob) for s in segments)


def _weighted_avg_logprob(segments: Sequence[Any]) -> float:
    if not segments:
        return 0.0
    weights = [max(float(s.end) - float(s.start), 1e-3) for s in segments]
    total = sum(w * float(s.avg_logprob) for w, s in zip(weights, segments, strict=True))
    return total / sum(weights)
