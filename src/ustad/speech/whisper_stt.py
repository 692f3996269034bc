"""Speech recognition with faster-whisper (CTranslate2 Whisper models on the CPU)."""

from __future__ import annotations

import hashlib
import logging
import math
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
from faster_whisper import WhisperModel

from ustad.speech.model_paths import validate_whisper_dir
from ustad.speech.types import SAMPLE_RATE, Audio, Task, Transcript, Word

log = logging.getLogger(__name__)

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

CTranslate2 4.8's Whisper decoder stops after half of ``max_length`` (prompt plus
budget) new tokens (tests/speech/test_whisper_batch.py checks it), so the budget in
effect is about 12 tokens per second plus 10: still half again above the Urdu rate.
"""
_TOKEN_ALLOWANCE = 16
# Whisper's 448-token context minus the longest prompt (start, language, task, no-timestamps).
_MAX_NEW_TOKENS = 440

_LOG_PROB_RETRY = -1.0
"""Whisper's default: a window whose mean token log-prob is lower is decoded again."""

SHORT_WINDOW_LOG_PROB_RETRY = -1.15
"""Mean token log-prob below which a short-window result is decoded again in full.

Log-probs run lower in a short window (tiny.en, 300 speechocean762 clips, greedy:
median -0.74 against -0.67). At Whisper's -1.0 the short window rejected 68 clips
where the full window retries 43; -1.15 rejects 44, the same share. Every rejection
costs a second, full decode, and those make most of the mean time per clip; replaying
the same decodes offline, the WER at -1.15 was 0.2 point above that at -1.0.
"""

SHORT_CLIP_MAX_SECONDS = 8.0
"""Longest clip the short-window path takes; longer ones always get the 30 s window.

Learner utterances are a sentence long (speechocean762: median 3.6 s, 90 % under
5.8 s). The longer the clip, the less a window of clip + margin saves and, measured
there, the likelier it is rejected: over 8 s, 11 of 16 clips went on to the full
window, so the short attempt cost more than it saved (0.9-1.0x).
"""
SHORT_WINDOW_MIN_SECONDS = 10
"""Shortest encoder window, in seconds.

Whisper was trained on 30 s windows only. Measured with tiny.en on the 300
speechocean762 clips, greedy, before any fallback: a window of the clip rounded up
plus 1 s (at least 3 s) gave WER 56 % against 37 % for the full window, with
sentences said twice and digit loops; clip + 2 s, at least 6 s: 48 %; clip + 3 s,
at least 10 s: 36 %. A 10 s window still encodes 6.8 times faster than 30 s
(tiny.en; base 6.5), and the decoder's cross-attention reads a third as many positions.
"""
SHORT_WINDOW_MARGIN_SECONDS = 3
"""Silence kept after the clip in the window, so Whisper sees where the speech ends."""

MAX_WORDS_PER_SECOND = 4.5
"""More words than this per second of clip (plus ``_SHORT_WINDOW_WORDS``) is invented text.

None of the 300 speechocean762 full-window transcripts exceeds 3.5 words/s (their
clips include the silence around the sentence); the loops a short window produced
ran at 5-13.
"""
_SHORT_WINDOW_WORDS = 2  # so that "Thank you very much." in one second still passes

_FULL_WINDOW_FRAMES = 3000  # 30 s of 10 ms mel frames: what Whisper's encoder is built for
_FRAMES_PER_SECOND = 100
_WORD_CHARACTERS = re.compile(r"[^\w']+")


class _WindowedWhisperModel(WhisperModel):  # type: ignore[misc]  # faster-whisper is untyped
    """faster-whisper's model whose encoder can be limited and remembers recent encodings.

    Window: faster-whisper 1.2 always pads the mel features to 3000 frames before
    encoding, whatever its ``chunk_length`` (which only moves where windows are cut,
    by changing the shared feature extractor, so it is not even safe across threads).
    CTranslate2 4.8 encodes any width up to 3000 frames (and refuses more), so
    cutting the padded features here is the one place a shorter window can be fed
    through faster-whisper's unchanged decoding and word alignment. The width is set
    per calling thread: several executor threads share the model.

    Encodings: the Urdu step asks one model three things of one utterance (its
    language, its Urdu transcript, and, off the phrase bank, its English), and
    faster-whisper encodes the same features for each. The encoder is the larger
    part of each call (base, 30 s window: about 0.75 s of 1.0-1.4 s), so the last
    ``encodings_kept`` encoder outputs are kept, keyed by the exact features, and a
    second request for identical features reuses the first's output.
    """

    def __init__(self, *args: Any, encodings_kept: int = 0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._window = threading.local()
        self.encodings = EncodingMemo(encodings_kept)

    @contextmanager
    def window(self, frames: int | None) -> Iterator[None]:
        """Encode at most ``frames`` mel frames in this thread (``None``: the full 30 s)."""
        self._window.frames = frames
        try:
            yield
        finally:
            self._window.frames = None

    def encode(self, features: Any) -> Any:
        frames: int | None = getattr(self._window, "frames", None)
        # Every window faster-whisper encodes, including a second one from the last
        # word's end, starts inside the clip, and the clip ends before ``frames``:
        # only zero padding is cut.
        if frames is not None and features.shape[-1] > frames:
            features = features[..., :frames]
        return self.encodings.get_or_compute(features, super().encode)


class EncodingMemo:
    """The last few encoder outputs, keyed by a digest of the exact mel features.

    A hit needs bit-identical features, so a reused output is exactly what encoding
    again would give. An entry holds one window's output (base, 30 s: 1500 x 512
    floats, 3 MiB). Two threads missing on the same features at once both encode;
    the Urdu step asks its questions one after another, so that is rare.
    """

    def __init__(self, capacity: int) -> None:
        if capacity < 0:
            raise ValueError(f"capacity must be >= 0, got {capacity}")
        self.capacity = capacity
        self.hits = 0
        self.misses = 0
        self.evictions = 0
        self.bytes = 0
        self._entries: OrderedDict[bytes, tuple[Any, int]] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_compute(self, features: Any, encode: Callable[[Any], Any]) -> Any:
        """The encoder output for ``features``: remembered, or computed and remembered."""
        if self.capacity == 0:
            return encode(features)
        key = _features_digest(features)
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
                self.hits += 1
                return entry[0]
            self.misses += 1
        output = encode(features)
        size = _storage_bytes(output)
        with self._lock:
            if key not in self._entries:
                self._entries[key] = (output, size)
                self.bytes += size
            while len(self._entries) > self.capacity:
                _, (_, evicted) = self._entries.popitem(last=False)
                self.bytes -= evicted
                self.evictions += 1
        return output

    def clear(self) -> None:
        """Forget every kept encoding (the counters stay)."""
        with self._lock:
            self._entries.clear()
            self.bytes = 0

    def __len__(self) -> int:
        return len(self._entries)


_DTYPE_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2, "int8": 1, "int16": 2, "int32": 4}


def _storage_bytes(output: Any) -> int:
    """Bytes held by a CTranslate2 ``StorageView`` (0 for anything without a shape)."""
    shape = getattr(output, "shape", None)
    if shape is None:
        return 0
    dtype = str(getattr(output, "dtype", "float32")).rsplit(".", 1)[-1]
    return math.prod(int(n) for n in shape) * _DTYPE_BYTES.get(dtype, 4)


def _features_digest(features: Any) -> bytes:
    array = np.ascontiguousarray(features, dtype=np.float32)
    digest = hashlib.blake2b(repr(array.shape).encode(), digest_size=16)
    digest.update(array.data)  # contiguous: hashed in place, not copied
    return digest.digest()


@dataclass(frozen=True)
class _Decoded:
    transcript: Transcript
    segments: tuple[Any, ...]
    """Every segment faster-whisper returned, repetition loops included."""
    tokens: int


class WhisperTranscriber:
    """A faster-whisper model loaded once, used for many blocking calls.

    Calls may come from several executor threads at once: CTranslate2 models are
    thread-safe and run up to ``num_workers`` calls in parallel (its ``inter_threads``),
    each using ``cpu_threads`` cores; further calls wait in CTranslate2's queue. Every
    worker holds its own copy of the weights, so memory grows with ``num_workers``.

    With ``short_clip_window``, transcriptions of clips up to ``SHORT_CLIP_MAX_SECONDS``
    in a known language (given, or an English-only model) are first decoded greedily
    in a window of the clip plus a margin (at least ``SHORT_WINDOW_MIN_SECONDS``)
    instead of Whisper's 30 s, and decoded again in the full window, as without the
    option, when that result is in doubt: a repetition, no text, the token budget
    used up, more words than the clip could hold, or a mean log-prob below
    ``SHORT_WINDOW_LOG_PROB_RETRY``. Translation always uses the full window, and so
    does language identification unless asked for its quick ``short_window`` look. See
    ``docs/measurements.md`` for what it saves and costs.

    With ``encodings_kept``, the model keeps its last encoder outputs, so a language
    check, a transcription and a translation of one utterance in the same window encode
    it once (``encodings`` counts the reuse).
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
        short_clip_window: bool = False,
        encodings_kept: int = 0,
    ) -> None:
        if beam_size < 1:
            raise ValueError(f"beam_size must be at least 1, got {beam_size}")
        if num_workers < 1:
            raise ValueError(f"num_workers must be at least 1, got {num_workers}")
        if not temperatures:
            raise ValueError("temperatures must not be empty")
        self.name = name
        self.short_clip_window = short_clip_window
        self._beam_size = beam_size
        self._temperatures = tuple(temperatures)
        self._model = _WindowedWhisperModel(
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

    @property
    def model(self) -> WhisperModel:
        """The faster-whisper model (for batched decoding, which shares its weights)."""
        return self._model

    @property
    def encodings(self) -> EncodingMemo:
        """The model's memo of recent encoder outputs, with its hit and miss counts."""
        memo: EncodingMemo = self._model.encodings
        return memo

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
        # Language identification stays in the full window (see ``detect_language``),
        # and so do translations: in a short window base went on translating past the
        # end of a 2.6 s Urdu clip ("The world's most beautiful place is the most
        # beautiful place in the world.") where the full window stops at "The world's
        # most beautiful"; translations are rare (after the phrase bank) and cached.
        # Identified here rather than by faster-whisper, whose own identification sees
        # the window's last frame, which its transcription then leaves out: one more
        # encoding, and a probability that differs from ``detect_language``'s. Done here,
        # the transcription decodes straight from the identification's encoding.
        detected: tuple[str, float] | None = None
        if language is None and self.multilingual:
            code, probability, _ = self.detect_language(audio)
            detected, language = (code, probability), code
        short_path = task == "transcribe" and detected is None
        frames = self._short_window_frames(audio.duration) if short_path else None
        if frames is not None:
            short = self._decode(
                samples,
                audio.duration,
                language=language,
                task=task,
                word_timestamps=word_timestamps,
                window_frames=frames,
            )
            doubt = _short_window_doubt(short, audio.duration)
            if doubt is None:
                return short.transcript
            log.debug("%s: short window rejected (%s); decoding the full window", self.name, doubt)
        transcript = self._decode(
            samples,
            audio.duration,
            language=language,
            task=task,
            word_timestamps=word_timestamps,
            window_frames=None,
        ).transcript
        if detected is None:
            return transcript
        return replace(transcript, language=detected[0], language_probability=detected[1])

    def detect_language(
        self, audio: Audio, *, short_window: bool = False
    ) -> tuple[str, float, dict[str, float]]:
        """Most likely language, its probability and the five most likely (multilingual only).

        Uses the first 30 s of the utterance in the full window unless asked for the
        ``short_window`` (and ``short_clip_window`` is on and the clip short enough).
        The short window is less sure: measured with base on the 300 speechocean762
        clips, a 10 s window cut the clips identified as English with probability >=
        0.5 from 193 to 143 (mean English probability 0.59 to 0.49), which would send
        English said at the Urdu step down the Urdu path. It never made English Urdu,
        though (Urdu + Hindi at most 0.024 on 284 clips up to 8 s), and heard the real
        Urdu clips as Urdu or Hindi (0.73, 0.67), so the tutor takes a confident short
        answer and asks the full window otherwise. Its encoding is the one the
        short-window transcription of the same clip needs, so that reuses it.
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
        first_window = features[:, : max(1, min(_FULL_WINDOW_FRAMES, features.shape[-1] - 1))]
        frames = self._short_window_frames(audio.duration) if short_window else None
        with self._model.window(frames):
            language, probability, ranked = self._model.detect_language(features=first_window)
        top = {str(code): float(p) for code, p in ranked[:5]}
        return str(language), float(probability), top

    def _short_window_frames(self, seconds: float) -> int | None:
        """Encoder width for a clip on the short path, or None for the full window."""
        if not self.short_clip_window or seconds > SHORT_CLIP_MAX_SECONDS:
            return None
        window = max(SHORT_WINDOW_MIN_SECONDS, math.ceil(seconds) + SHORT_WINDOW_MARGIN_SECONDS)
        return min(_FULL_WINDOW_FRAMES, window * _FRAMES_PER_SECOND)

    def _decode(
        self,
        samples: np.ndarray[Any, np.dtype[np.float32]],
        duration: float,
        *,
        language: str | None,
        task: Task,
        word_timestamps: bool,
        window_frames: int | None,
    ) -> _Decoded:
        short = window_frames is not None
        with self._model.window(window_frames):
            segments_iter, info = self._model.transcribe(
                samples,
                language=language,
                task=task,
                beam_size=self._beam_size,
                # The short window only ever decodes greedily: a window failing Whisper's
                # checks goes to the full window, whose sampled retries read better
                # (sampled retries in a short window gave the worst transcripts).
                temperature=[self._temperatures[0]] if short else list(self._temperatures),
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
                log_prob_threshold=None if task == "translate" else _LOG_PROB_RETRY,
                max_new_tokens=_token_budget(duration),
            )
            # The segments are a lazy generator: decoding happens here, inside the call
            # (and inside the window, which is per thread).
            decoded = tuple(segments_iter)
        segments = [s for s in decoded if not _is_repetition(s)]
        transcript = Transcript(
            text="".join(s.text for s in segments).strip(),
            language=info.language if self.multilingual else "en",
            language_probability=float(info.language_probability) if self.multilingual else 1.0,
            duration=duration,
            words=tuple(_words(segments)) if word_timestamps else (),
            no_speech_probability=_no_speech_probability(decoded),
            avg_logprob=_weighted_avg_logprob(segments),
        )
        return _Decoded(transcript, decoded, sum(_text_tokens(s) for s in decoded))

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


def _short_window_doubt(decoded: _Decoded, duration: float) -> str | None:
    """Why a short-window transcription should be decoded again in the full window, if so.

    Each check is a failure seen in short windows (tiny.en, speechocean762): the
    sentence said twice as two segments, "1, 5, 3, 1, 5, 3, ..." loops, text invented
    past the end of the speech, and misheard clips with low log-probs (which the full
    window would decode again at higher temperatures).
    """
    segments = decoded.segments
    if any(_is_repetition(s) for s in segments):
        return "compression ratio"
    if not decoded.transcript.text:
        # Whisper skipped the window as silence; the runtime only transcribes what its
        # VAD calls speech, so this is more likely the short window failing.
        return "no text"
    texts = [_plain_words(s.text) for s in segments]
    if any(a and a == b for a, b in pairwise(texts)):
        return "segment repeated"
    if repeats_itself([word for text in texts for word in text]):
        return "words repeated"
    # A decode that ran to the budget is a loop the checks above missed (faster-whisper
    # drops an unfinished last segment, so part of such a loop may not be counted).
    if decoded.tokens >= _token_budget(duration):
        return "token budget"
    words = len(decoded.transcript.text.split())
    if words > _SHORT_WINDOW_WORDS + MAX_WORDS_PER_SECOND * duration:
        return "too many words"
    if any(float(s.avg_logprob) < SHORT_WINDOW_LOG_PROB_RETRY for s in segments):
        return "low log-prob"
    return None


def repeats_itself(words: Sequence[str]) -> bool:
    """True when a run of words comes again straight after itself.

    One or two words must come three times in a row ("very very very", "go to go to
    go to"), since a word said twice is ordinary speech (and learners stammer);
    three or more words twice in a row ("so Mary went on to study so Mary went on to
    study") are the sentence said again, which a short window invents.
    """
    count = len(words)
    for size in range(1, count // 2 + 1):
        times = 3 if size <= 2 else 2
        for start in range(count - size * times + 1):
            run = words[start : start + size]
            if all(
                words[start + k * size : start + (k + 1) * size] == run for k in range(1, times)
            ):
                return True
    return False


def _plain_words(text: str) -> list[str]:
    return [w for w in _WORD_CHARACTERS.sub(" ", text.lower()).split() if w]


def _text_tokens(segment: Any) -> int:
    # Segment tokens include timestamp tokens, which count against the budget too.
    return len(segment.tokens)


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
