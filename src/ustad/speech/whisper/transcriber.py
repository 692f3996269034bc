"""``WhisperTranscriber``: speech recognition with faster-whisper on the CPU."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from faster_whisper import WhisperModel

from ustad.speech.model_paths import validate_whisper_dir
from ustad.speech.types import (
    Audio,
    PromptedWanted,
    Task,
    Transcript,
    TranscriptSegment,
    WordSupport,
)
from ustad.speech.whisper.checks import (
    LOG_PROB_RETRY,
    LOOP_DOUBTS,
    kept_segments,
    missed_loop,
    no_speech_probability,
    segment_tokens,
    short_window_doubt,
    token_budget,
    weighted_avg_logprob,
)
from ustad.speech.whisper.encodings import EncoderCache
from ustad.speech.whisper.pieces import believable, joined, pieces_to_decode
from ustad.speech.whisper.streaming import decoded_segments
from ustad.speech.whisper.support import forced_support, mark_prompted, prompted_reading
from ustad.speech.whisper.transcript import Decoded, segments_of, text_of, words_of
from ustad.speech.whisper.transcript import whisper_samples as _samples
from ustad.speech.whisper.window import (
    ENGLISH_CLIP_MAX_SECONDS,
    FULL_WINDOW_FRAMES,
    SHORT_CLIP_MAX_SECONDS,
    WindowedWhisperModel,
    short_window_frames,
)
from ustad.vocabulary import LanguageGuess

log = logging.getLogger(__name__)

DEFAULT_TEMPERATURES: tuple[float, ...] = (0.0, 0.4, 0.8)
"""Greedy first; sampled retries only when a window fails Whisper's own checks.

Measured with tiny.en on 150 speechocean762 learner clips: WER 0.358 with these
retries against 0.368 greedy-only, for about 10 % more time on average. Retries fire
on ~6 % of clips (unclear speech, mean log-prob below -1) and cost 0.2-0.45 s each
there; being sampled, those clips are not bit-for-bit repeatable. Whisper's own
six-step ladder only adds latency on the hardest clips.
"""


class WhisperTranscriber:
    """A faster-whisper model loaded once, used for many blocking calls.

    Calls may come from several executor threads at once: CTranslate2 models are
    thread-safe and run up to ``num_workers`` calls in parallel (its ``inter_threads``),
    each on ``cpu_threads`` cores, sharing the weights (CTranslate2's docs/parallel.md).

    With ``short_clip_window``, transcriptions of clips up to ``SHORT_CLIP_MAX_SECONDS``
    in a known language (given, or an English-only model) are first decoded greedily
    in a window of the clip plus a margin (at least ``SHORT_WINDOW_MIN_SECONDS``)
    instead of Whisper's 30 s, and decoded again in the full window, as without the
    option, when that result is in doubt (``checks.short_window_doubt``): a
    repetition, no text, the token budget used up, more words than the clip could
    hold, or (unless ``redo_low_logprob`` is off) a low mean log-prob. Translation
    always uses the full window, and so does language identification unless asked for
    its quick ``short_window`` look. English readings (a transcription in English
    that is not ``quick``, the ``target_support`` reading, and the language look of an
    ``english_attempt``) take that window up to ``english_window_max_seconds``; such a
    reading of a clip over ``SHORT_CLIP_MAX_SECONDS`` doubted as a loop goes to its
    voiced pieces first. See ``docs/measurements.md`` for what it saves and costs.

    With ``encodings_kept``, the model keeps its last encoder outputs, so a language
    check, a transcription and a translation of one utterance in the same window encode
    it once (``encodings`` counts the reuse).

    Raises ``ModelNotFoundError`` for a missing model dir and ``ValueError`` for a
    ``beam_size`` or ``num_workers`` under 1, no ``temperatures``, a negative
    ``encodings_kept`` or an ``english_window_max_seconds`` outside
    ``SHORT_CLIP_MAX_SECONDS`` to ``ENGLISH_CLIP_MAX_SECONDS``.
    """

    def __init__(
        self,
        model_dir: Path,
        *,
        name: str = "whisper",
        compute_type: str = "int8",
        cpu_threads: int = 1,
        beam_size: int = 1,
        num_workers: int = 1,
        temperatures: Sequence[float] = DEFAULT_TEMPERATURES,
        short_clip_window: bool = False,
        redo_low_logprob: bool = True,
        encodings_kept: int = 0,
        english_window_max_seconds: float = ENGLISH_CLIP_MAX_SECONDS,
    ) -> None:
        if beam_size < 1:
            raise ValueError(f"beam_size must be at least 1, got {beam_size}")
        if num_workers < 1:
            raise ValueError(f"num_workers must be at least 1, got {num_workers}")
        if not temperatures:
            raise ValueError("temperatures must not be empty")
        if not SHORT_CLIP_MAX_SECONDS <= english_window_max_seconds <= ENGLISH_CLIP_MAX_SECONDS:
            raise ValueError(
                "english_window_max_seconds must be "
                f"{SHORT_CLIP_MAX_SECONDS}-{ENGLISH_CLIP_MAX_SECONDS}, "
                f"got {english_window_max_seconds}"
            )
        self.name = name
        self.short_clip_window = short_clip_window
        self.redo_low_logprob = redo_low_logprob
        self.english_window_max_seconds = english_window_max_seconds
        self._beam_size = beam_size
        self._temperatures = tuple(temperatures)
        self._model = WindowedWhisperModel(
            # Validated first: faster-whisper treats a missing dir as a hub model name.
            str(validate_whisper_dir(model_dir)),
            device="cpu",
            compute_type=compute_type,
            cpu_threads=cpu_threads,
            num_workers=num_workers,
            local_files_only=True,
            encodings_kept=encodings_kept,
        )
        self._languages = frozenset(self._model.supported_languages)
        self.decode_calls = 0
        """Whisper decodes run so far: calls of faster-whisper's transcription (each may
        retry at higher temperatures inside); approximate under concurrent calls."""

    @property
    def model(self) -> WhisperModel:
        """The faster-whisper model (a ``WindowedWhisperModel``)."""
        return self._model

    @property
    def encodings(self) -> EncoderCache:
        """The model's cache of recent encoder outputs (``whisper_encodings``).

        Its bound method ``stats`` is what the service lists among its caches.
        """
        cache: EncoderCache = self._model.encodings
        return cache

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
        quick: bool = False,
    ) -> Transcript:
        """Transcribe (or translate to English) one utterance of at most ~30 s.

        ``audio`` must be 16 kHz mono (``ValueError`` otherwise, and for an unknown
        ``language`` or ``task`` or one an English-only model cannot do).
        ``language=None`` detects the language first (an English-only model always
        reports ``en`` with probability 1); a forced language reports probability 1.
        Word texts keep attached punctuation (``study.``).

        Repetition loops never reach the text: a segment that loops (``checks.
        is_repetition``) is left out, and a loop faster-whisper kept greedy is first
        decoded again sampled, as Whisper does for the loops its gzip ratio sees.

        Drills: speech said again and again ("very" eight times) is what greedy
        decoding loops on, far past the real repeats. When an English transcription's decode
        was dropped as a loop, spent its token budget, or gave no text or fewer words
        than the clip has voiced regions, the clip is decoded again one voiced region
        at a time (``pieces``) and the texts joined, so each repeat said is in the text
        once; silence and noise have no voiced regions to decode.

        Silence: on pure silence and faint noise most models and languages give no
        segments, so the text is empty, ``no_speech_probability`` 1.0 and
        ``avg_logprob`` 0.0. Base forced to ``ur`` decodes a loop there instead ("ایسا
        ایسا ..."), which the token budget keeps short and the loop checks keep out of
        the text (its sampled retries may leave a stray word). Callers still check for
        speech first: a short silence after speech can come back as "Thank you.".

        ``quick``: one greedy decode (the short window's when the clip has one), no
        retries or pieces; one in doubt comes back with no text (the gate's vote).
        """
        self._check_request(language, task)
        samples = _samples(audio)
        if samples.size == 0:
            return Transcript(
                text="", language=language or "en", language_probability=0.0, duration=0.0
            )
        # Language id and translations stay in the full window (in the short one base
        # changed 14 of 18 Urdu clips' targets: docs/BENCHMARKS.md). Identified here, not
        # by faster-whisper (which sees one more frame: another encoding), so the
        # transcription decodes straight from the identification's encoding.
        detected: tuple[str, float] | None = None
        if language is None and self.multilingual:
            guess = self.detect_language(audio)
            detected, language = (guess.language, guess.probability), guess.language
        # Drills are said in English (the repeat step, assessments). At the Urdu step a
        # lost decode stays lost: no text there is what the English gate reads, and
        # pieces of English forced into Urdu would only invent Urdu.
        drill = not quick and task == "transcribe" and (language == "en" or not self.multilingual)
        clip = partial(self._decode_clip, samples, audio.duration, language=language, task=task)
        short_path = task == "transcribe" and detected is None
        decoded = clip(
            word_timestamps=word_timestamps, short_path=short_path, quick=quick, drill=drill
        )
        reason, pieces = pieces_to_decode(audio, decoded) if drill else ("", [])
        if decoded.doubt and not pieces:  # a long clip's loop, no pieces: the full window
            decoded = clip(word_timestamps=word_timestamps, short_path=False)
            reason, pieces = pieces_to_decode(audio, decoded)
        transcript = decoded.transcript
        if pieces:
            log.debug("%s: %s; decoding %d voiced pieces", self.name, reason, len(pieces))
            heard = []
            for piece in pieces:
                part = self._decode_clip(
                    _samples(piece.samples(audio)),
                    piece.end - piece.start,
                    language=language,
                    task=task,
                    word_timestamps=word_timestamps,
                    short_path=True,
                ).transcript
                heard.append((piece, part if believable(piece, part) else replace(part, text="")))
            transcript = joined(heard, transcript)
        if detected is None:
            return transcript
        return replace(transcript, language=detected[0], language_probability=detected[1])

    def stream_segments(
        self, audio: Audio, *, language: str | None = None, task: Task = "transcribe"
    ) -> Iterator[TranscriptSegment]:
        """The segments of ``audio`` as they are decoded, one pass in the full window
        (``ustad.speech.whisper.streaming``); the request is checked, and the language
        detected when none is given, before it returns (``ValueError`` as for
        :meth:`transcribe`). Closing the iterator stops the decoding."""
        self._check_request(language, task)
        samples = _samples(audio)
        if language is None and self.multilingual and samples.size:
            language = self.detect_language(audio).language
        self.decode_calls += 1
        model, beams, temperatures = self._model, self._beam_size, self._temperatures
        return decoded_segments(model, samples, language, task, beams, temperatures)

    def _decode_clip(
        self,
        samples: np.ndarray[Any, np.dtype[np.float32]],
        duration: float,
        *,
        language: str | None,
        task: Task,
        word_timestamps: bool,
        short_path: bool,
        quick: bool = False,
        drill: bool = False,
    ) -> Decoded:
        """The decode of one clip: greedy in the short window when ``short_path`` allows
        it, else (or when that is in doubt, unless ``quick``) the full window with
        sampled fallbacks, and sampled again for a loop faster-whisper kept. A ``drill``
        reading (pieces may follow) of a clip over ``SHORT_CLIP_MAX_SECONDS`` doubted as a
        loop is returned with its ``doubt``: a drill loops in any window, and its pieces
        are cheaper than a looping full window."""
        # A quick reading (the Urdu step's vote) keeps the rule of the step it serves.
        english = not quick and (language == "en" or not self.multilingual)
        frames = self._short_window_frames(duration, english=english) if short_path else None
        decode = partial(
            self._decode,
            samples,
            duration,
            language=language,
            task=task,
            word_timestamps=word_timestamps,
        )
        if frames is not None:
            short = decode(
                window_frames=frames,
                # The short window only ever decodes greedily: a window failing Whisper's
                # checks goes to the full window, whose sampled retries read better
                # (sampled retries in a short window gave the worst transcripts).
                temperatures=self._temperatures[:1],
            )
            # A quick reading is a vote, which needs confidence: its log-prob always counts.
            low = self.redo_low_logprob or quick
            doubt = short_window_doubt(short, duration, low_logprob=low)
            if doubt is None:
                return short
            if drill and duration > SHORT_CLIP_MAX_SECONDS and doubt in LOOP_DOUBTS:
                return replace(short, doubt=doubt)
            if quick:  # a reading its checks doubt is no confident reading: no text
                return replace(short, transcript=replace(short.transcript, text="", words=()))
            log.debug("%s: short window rejected (%s); decoding the full window", self.name, doubt)
        if quick:
            return decode(window_frames=None, temperatures=self._temperatures[:1])
        full = decode(window_frames=None, temperatures=self._temperatures)
        sampled = self._temperatures[1:]
        if sampled and missed_loop(full.segments):
            # faster-whisper moves on to sampling only when its gzip ratio sees a loop;
            # a short one that ratio missed was kept greedy. Do what it would have done
            # (what is still a loop after that is left out of the text).
            log.debug("%s: repetition loop kept by faster-whisper; decoding sampled", self.name)
            full = decode(window_frames=None, temperatures=sampled)
        return full

    def target_support(
        self, audio: Audio, text: str, *, prompted: PromptedWanted | None = None
    ) -> tuple[WordSupport, ...]:
        """How well ``audio`` supports each whitespace word of the English ``text``
        (``ustad.speech.whisper.support.forced_support``), in the window a transcription
        of the clip uses, so its encoding is reused when kept, and which of its words a
        decoding prompted with ``text`` writes (``WordSupport.prompted``; one more greedy
        decode of the same encoding, about three quarters of the call's CPU). Given
        ``prompted``, that decode runs only when it answers ``True`` for the forced
        reading. Raises ``ValueError`` for audio that is not 16 kHz mono."""
        samples = _samples(audio)
        frames = self._short_window_frames(audio.duration, english=True)
        support = forced_support(self._model, samples, text, frames)
        if not support or samples.size == 0:
            return support
        if prompted is not None and not prompted(support):
            return support
        self.decode_calls += 1
        written = prompted_reading(self._model, samples, audio.duration, text, frames)
        return mark_prompted(support, written)

    def detect_language(
        self, audio: Audio, *, short_window: bool = False, english_attempt: bool = False
    ) -> LanguageGuess:
        """The spoken language (multilingual models only).

        The guess holds the most likely language, its probability and the distribution
        over every language the model knows (ranked, most likely first; summing to
        about 1). ``ValueError``: an English-only model, empty audio, or not 16 kHz mono.

        Uses the first 30 s of the utterance in the full window unless asked for the
        ``short_window`` (and ``short_clip_window`` is on and the clip short enough).
        The short window is less sure: measured with base on the 300 speechocean762
        clips, a 10 s window cut the clips identified as English with probability >=
        0.5 from 193 to 143 (mean English probability 0.59 to 0.49), which would send
        English said at the Urdu step down the Urdu path. It never made English Urdu,
        though (Urdu + Hindi at most 0.024 on 284 clips up to 8 s), and heard the real
        Urdu clips as Urdu or Hindi (0.73, 0.67), so the tutor takes a confident short
        answer and asks the full window otherwise. Its encoding is the one the
        short-window transcription of the same clip needs, so that reuses it; for an
        ``english_attempt`` (the learner was asked for English), the one the attempt's
        English readings use, which reach longer clips.
        """
        if not self.multilingual:
            raise ValueError(f"{self.name} is an English-only model; it cannot identify languages")
        samples = _samples(audio)
        if samples.size == 0:
            raise ValueError("cannot identify the language of empty audio")
        # The features of transcription's first window, cut the way faster-whisper cuts
        # them there (it drops the last, partial frame), so the encoder sees identical
        # input and a transcription or translation that follows reuses this encoding.
        features = self._model.feature_extractor(samples)
        first_window = features[:, : max(1, min(FULL_WINDOW_FRAMES, features.shape[-1] - 1))]
        window = self._short_window_frames(audio.duration, english=english_attempt)
        frames = window if short_window else None
        with self._model.window(frames):
            language, probability, ranked = self._model.detect_language(features=first_window)
        distribution = {str(code): float(p) for code, p in ranked}
        return LanguageGuess(str(language), float(probability), distribution)

    def _short_window_frames(self, seconds: float, *, english: bool = False) -> int | None:
        """Encoder width for a clip on the short path, or None for the full window; an
        ``english`` reading's clip may be up to ``english_window_max_seconds`` long."""
        if not self.short_clip_window:
            return None
        limit = self.english_window_max_seconds if english else SHORT_CLIP_MAX_SECONDS
        return short_window_frames(seconds, limit)

    def _decode(
        self,
        samples: np.ndarray[Any, np.dtype[np.float32]],
        duration: float,
        *,
        language: str | None,
        task: Task,
        word_timestamps: bool,
        window_frames: int | None,
        temperatures: Sequence[float],
    ) -> Decoded:
        self.decode_calls += 1
        with self._model.window(window_frames):
            segments_iter, info = self._model.transcribe(
                samples,
                language=language,
                task=task,
                beam_size=self._beam_size,
                temperature=list(temperatures),
                # The runtime has already found speech in the utterance; Silero VAD again
                # would only cost time and could clip quiet word edges.
                vad_filter=False,
                # Utterances are one window long; conditioning only helps long-form audio
                # and is the usual source of repetition loops.
                condition_on_previous_text=False,
                # Segment timestamps are only needed with word timings: faster-whisper
                # then moves to the last word's end and, without a closing timestamp
                # token, decodes the trailing silence again (measured: an extra "Thank
                # you." and twice the time). Plain text skips them and decodes fewer
                # tokens.
                without_timestamps=not word_timestamps,
                word_timestamps=word_timestamps,
                # Whisper's speech translations score below the -1 log-prob retry
                # threshold almost always, so retrying on it re-decoded nearly every
                # utterance (measured 2.5 s instead of 1.2 s on a 5.5 s clip) for no
                # better English; translations are retried only for repetition loops.
                log_prob_threshold=None if task == "translate" else LOG_PROB_RETRY,
                max_new_tokens=token_budget(duration),
            )
            # A lazy generator: decoding happens here, inside the (per-thread) window.
            decoded = tuple(segments_iter)
        segments = kept_segments(decoded)
        transcript = Transcript(
            text=text_of(segments),
            language=info.language if self.multilingual else "en",
            language_probability=float(info.language_probability) if self.multilingual else 1.0,
            duration=duration,
            words=tuple(words_of(segments)) if word_timestamps else (),
            no_speech_probability=no_speech_probability(decoded),
            avg_logprob=weighted_avg_logprob(segments),
            segments=segments_of(segments),
        )
        return Decoded(transcript, decoded, sum(segment_tokens(s) for s in decoded))

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
