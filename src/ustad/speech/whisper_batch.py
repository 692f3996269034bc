"""Several utterances through one Whisper model in one batched encoder and decoder call.

``transcribe_batch`` gives each utterance what ``WhisperTranscriber.transcribe``
would give it at temperature 0, or says that only the single path can decide it
(``NeedsSingle``), for the caller to run ``transcribe`` on it: that path holds the
sampled retries, which a batch cannot share (each retry depends on its own item).

What it takes from the single path, to stay equivalent: faster-whisper's own
decoding defaults (read from ``WhisperModel.transcribe``'s signature, since the
single path leaves them alone), the transcriber's beam width, token budget,
repetition guard and short-window doubts (imported from ``whisper_stt``, so the two
paths cannot drift apart), the same prompt, features, segment split and word
alignment (faster-whisper's own methods). It calls CTranslate2's ``encode`` and
``generate`` itself, with a batch, because faster-whisper's single path decodes one
window at a time and its ``BatchedInferencePipeline`` is for one long file cut into
chunks: it neither stops at the retry checks nor passes ``max_initial_timestamp``.

Windows. Clips on the single path's short window (see ``WhisperTranscriber``) are
encoded together at the width of the longest one's window: the encoder takes one
width per call. For a shorter clip the extra width is more zero padding after its
own margin, which can change its decode slightly, but clips up to 7 s all get the
10 s minimum, so most batches of learner sentences add nothing. A short-window result
the single path would doubt goes on to a batched full 30 s window, as the single path
would, and only one that fails Whisper's checks there too (a repetition, a mean
log-prob below the retry threshold) needs the single path. Clips off the short path
(over ``SHORT_CLIP_MAX_SECONDS``, translations, or with the option off) go straight
to the full window. The single path also settles what a batch cannot reproduce
exactly: a decode that reached its own token budget (the batch runs to the largest
budget of its items), one faster-whisper would continue in a second window, and
unusable audio (which gets its error there).

Measured on this project's 2-core CPU in ``benchmarks/stt_batching.py`` (numbers and
the policy they led to in ``docs/BENCHMARKS.md``).
"""

from __future__ import annotations

import inspect
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import ctranslate2
import numpy as np
from faster_whisper import WhisperModel
from faster_whisper.audio import pad_or_trim
from faster_whisper.tokenizer import Tokenizer
from faster_whisper.transcribe import Segment, Word, get_compression_ratio, get_suppressed_tokens
from faster_whisper.utils import get_end

from ustad.speech.types import Audio, Task, Transcript
from ustad.speech.whisper_stt import (
    _FULL_WINDOW_FRAMES,
    _LOG_PROB_RETRY,
    SHORT_CLIP_MAX_SECONDS,
    WhisperTranscriber,
    _Decoded,
    _is_repetition,
    _no_speech_probability,
    _samples,
    _short_window_doubt,
    _text_tokens,
    _token_budget,
    _weighted_avg_logprob,
    _words,
)

log = logging.getLogger(__name__)

_DEFAULTS = MappingProxyType(
    {
        name: parameter.default
        for name, parameter in inspect.signature(WhisperModel.transcribe).parameters.items()
    }
)
"""faster-whisper's decoding defaults, which the single path does not override."""


@dataclass(frozen=True)
class NeedsSingle:
    """An utterance the batch does not settle; ``WhisperTranscriber.transcribe`` must."""

    reason: str


BatchOutcome = Transcript | NeedsSingle


@dataclass
class _Item:
    index: int
    duration: float
    features: np.ndarray[Any, np.dtype[np.float32]]
    """The clip's mel window, padded to 30 s as faster-whisper pads it."""
    frames: int
    """Mel frames of the clip itself (the rest of ``features`` is padding)."""


@dataclass(frozen=True)
class _Request:
    model: WhisperModel
    tokenizer: Tokenizer
    prompt: list[int]
    suppress_tokens: tuple[int, ...]
    beam_size: int
    language: str
    multilingual: bool
    task: Task
    word_timestamps: bool


def can_batch(transcriber: WhisperTranscriber, *, language: str | None) -> bool:
    """Whether requests with this language can share a batch.

    A multilingual model asked to detect the language does it on its own encoder pass
    of slightly different features (faster-whisper keeps the last frame there), so a
    batch could not reproduce it; such requests take the single path. So does every
    request to a transcriber whose first decode is sampled rather than greedy.
    """
    greedy_first = transcriber._temperatures[0] == 0.0
    return greedy_first and (language is not None or not transcriber.multilingual)


def transcribe_batch(
    transcriber: WhisperTranscriber,
    audios: Sequence[Audio],
    *,
    language: str | None,
    task: Task = "transcribe",
    word_timestamps: bool = False,
) -> list[BatchOutcome]:
    """One outcome per utterance, in order (blocking: run it in the engine executor).

    Raises ``ValueError`` for a request no item could be transcribed with (unknown
    task or language); a bad single utterance (wrong rate, empty) comes back as
    ``NeedsSingle``, and the single path gives it its own error or empty transcript.
    """
    transcriber._check_request(language, task)
    outcomes: list[BatchOutcome] = [NeedsSingle("not decoded")] * len(audios)
    if not can_batch(transcriber, language=language):
        return [NeedsSingle("not batchable")] * len(audios)
    request = _request(transcriber, language or "en", task, word_timestamps)
    short: list[_Item] = []
    full: list[_Item] = []
    for index, audio in enumerate(audios):
        item = _item(index, audio, request.model)
        if isinstance(item, NeedsSingle):
            outcomes[index] = item
        elif _short_window_frames(transcriber, task, item.duration) is not None:
            short.append(item)
        else:
            full.append(item)
    if short:
        frames = max(_short_window_frames(transcriber, task, i.duration) or 0 for i in short)
        for item, decoded in zip(short, _decode(request, short, frames), strict=True):
            if isinstance(decoded, NeedsSingle):
                outcomes[item.index] = decoded
                continue
            reason = _short_window_doubt(decoded, item.duration)
            if reason is None:
                outcomes[item.index] = decoded.transcript
            else:
                log.debug("%s: batched short window rejected (%s)", transcriber.name, reason)
                full.append(item)
    if full:
        full.sort(key=lambda i: i.index)
        for item, decoded in zip(full, _decode(request, full, None), strict=True):
            outcomes[item.index] = (
                decoded if isinstance(decoded, NeedsSingle) else decoded.transcript
            )
    for index, outcome in enumerate(outcomes):
        if isinstance(outcome, NeedsSingle):
            log.debug("%s: item %d needs the single path (%s)", transcriber.name, index, outcome)
    return outcomes


def _request(
    transcriber: WhisperTranscriber, language: str, task: Task, word_timestamps: bool
) -> _Request:
    model = transcriber.model
    multilingual = transcriber.multilingual
    tokenizer = Tokenizer(model.hf_tokenizer, multilingual, task=task, language=language)
    # The single path's prompt: no previous text (condition_on_previous_text is off),
    # and no timestamps unless words are timed.
    prompt = model.get_prompt(tokenizer, [], without_timestamps=not word_timestamps)
    return _Request(
        model=model,
        tokenizer=tokenizer,
        prompt=prompt,
        suppress_tokens=get_suppressed_tokens(tokenizer, _DEFAULTS["suppress_tokens"]),
        beam_size=transcriber._beam_size,
        language=language,
        multilingual=multilingual,
        task=task,
        word_timestamps=word_timestamps,
    )


def _short_window_frames(transcriber: WhisperTranscriber, task: Task, seconds: float) -> int | None:
    """The single path's short window for a clip, or None when it uses the full window."""
    if task != "transcribe" or seconds > SHORT_CLIP_MAX_SECONDS:
        return None
    return transcriber._short_window_frames(seconds)


def _item(index: int, audio: Audio, model: WhisperModel) -> _Item | NeedsSingle:
    try:
        samples = _samples(audio)
    except ValueError as error:
        return NeedsSingle(f"invalid audio: {error}")
    if samples.size == 0:
        return NeedsSingle("empty audio")
    features = model.feature_extractor(samples)
    frames = features.shape[-1] - 1  # faster-whisper's content frames
    if frames > _FULL_WINDOW_FRAMES:
        return NeedsSingle("longer than one window")
    window = pad_or_trim(features[:, :frames]).astype(np.float32)
    return _Item(index, audio.duration, window, frames)


def _decode(
    request: _Request, items: Sequence[_Item], window_frames: int | None
) -> list[_Decoded | NeedsSingle]:
    """Decode ``items`` greedily in one window width, as the single path's first try."""
    model = request.model
    width = window_frames or _FULL_WINDOW_FRAMES
    stacked = np.ascontiguousarray(np.stack([item.features[:, :width] for item in items]))
    # CTranslate2 directly: faster-whisper's ``encode`` on the transcriber's model
    # memoises single windows, which a batch would only fill with entries nobody reuses.
    encoded = model.model.encode(ctranslate2.StorageView.from_array(stacked), to_cpu=False)
    budgets = [_token_budget(item.duration) for item in items]
    results = model.model.generate(
        encoded,
        [request.prompt] * len(items),
        beam_size=request.beam_size,
        patience=_DEFAULTS["patience"],
        length_penalty=_DEFAULTS["length_penalty"],
        repetition_penalty=_DEFAULTS["repetition_penalty"],
        no_repeat_ngram_size=_DEFAULTS["no_repeat_ngram_size"],
        # One limit per call: the largest budget; an item past its own is sent back.
        max_length=len(request.prompt) + max(budgets),
        return_scores=True,
        return_no_speech_prob=True,
        suppress_blank=_DEFAULTS["suppress_blank"],
        suppress_tokens=list(request.suppress_tokens),
        max_initial_timestamp_index=round(
            _DEFAULTS["max_initial_timestamp"] / model.time_precision
        ),
    )
    encoder_outputs = np.asarray(encoded) if request.word_timestamps else None
    decoded: list[_Decoded | NeedsSingle] = []
    for position, (item, result, budget) in enumerate(zip(items, results, budgets, strict=True)):
        own: Any = None
        if encoder_outputs is not None:
            own = ctranslate2.StorageView.from_array(
                np.ascontiguousarray(encoder_outputs[position : position + 1])
            )
        decoded.append(
            _settle(request, item, result, budget, own, full_window=window_frames is None)
        )
    return decoded


def _settle(
    request: _Request,
    item: _Item,
    result: Any,
    budget: int,
    encoder_output: Any,
    *,
    full_window: bool,
) -> _Decoded | NeedsSingle:
    """One item's generation result as the single path would take it, or why not."""
    model, tokenizer = request.model, request.tokenizer
    tokens: list[int] = list(result.sequences_ids[0])
    # CTranslate2 4.8's Whisper decoder stops after ``max_length // 2`` new tokens
    # (measured; tests/speech/test_whisper_batch.py checks it): an item that reached
    # its own single-path limit would have been cut there, so only the single path
    # knows its result.
    if len(tokens) >= (len(request.prompt) + budget) // 2:
        return NeedsSingle("token budget")
    avg_logprob = _avg_logprob(result, tokens)
    compression_ratio = get_compression_ratio(tokenizer.decode(tokens).strip())
    log_prob_threshold = None if request.task == "translate" else _LOG_PROB_RETRY
    low = log_prob_threshold is not None and avg_logprob < log_prob_threshold
    silent = result.no_speech_prob > _DEFAULTS["no_speech_threshold"] and low
    repeated = compression_ratio > _DEFAULTS["compression_ratio_threshold"]
    # The full window decodes with Whisper's temperature ladder: a result its checks
    # reject is decoded again, sampled, which only the single path can do. (The short
    # window decodes at one temperature and leaves the verdict to its doubts.)
    if full_window and (repeated or low) and not silent:
        return NeedsSingle("compression ratio" if repeated else "low log-prob")
    if result.no_speech_prob > _DEFAULTS["no_speech_threshold"] and not (
        log_prob_threshold is not None and avg_logprob > log_prob_threshold
    ):
        # Whisper skips the window as silence: no segments.
        return _decoded(request, item, [])
    segments, seek, single_ending = model._split_segments_by_timestamps(
        tokenizer=tokenizer,
        tokens=tokens,
        time_offset=0.0,
        segment_size=item.frames,
        segment_duration=item.frames * model.feature_extractor.time_per_frame,
        seek=0,
    )
    if request.word_timestamps:
        model.add_word_timestamps(
            [segments],
            tokenizer,
            encoder_output,
            item.frames,
            _DEFAULTS["prepend_punctuations"],
            _DEFAULTS["append_punctuations"],
            last_speech_timestamp=0.0,
        )
        if not single_ending:
            last_word_end = get_end(segments)
            if last_word_end is not None and last_word_end > 0.0:
                seek = round(last_word_end * model.frames_per_second)
    if seek < item.frames:
        # faster-whisper would decode another window from ``seek`` (after the last
        # word, when no timestamp closed the text).
        return NeedsSingle("second window")
    kept: list[Any] = []
    for segment in segments:
        text = tokenizer.decode(segment["tokens"])
        if segment["start"] == segment["end"] or not text.strip():
            continue
        kept.append(
            Segment(
                id=len(kept) + 1,
                seek=0,
                start=segment["start"],
                end=segment["end"],
                text=text,
                tokens=segment["tokens"],
                avg_logprob=avg_logprob,
                compression_ratio=compression_ratio,
                no_speech_prob=result.no_speech_prob,
                words=[Word(**word) for word in segment["words"]]
                if request.word_timestamps
                else None,
                temperature=0.0,
            )
        )
    return _decoded(request, item, kept)


def _avg_logprob(result: Any, tokens: Sequence[int]) -> float:
    # faster-whisper's recovery of the mean log-prob from CTranslate2's length-normalised
    # score (with its default length penalty of 1).
    length = len(tokens)
    penalty = float(_DEFAULTS["length_penalty"])
    return float(result.scores[0]) * math.pow(length, penalty) / (length + 1)


def _decoded(request: _Request, item: _Item, decoded: Sequence[Any]) -> _Decoded:
    """The transcript as ``WhisperTranscriber`` builds it from faster-whisper's segments."""
    segments = [s for s in decoded if not _is_repetition(s)]
    transcript = Transcript(
        text="".join(s.text for s in segments).strip(),
        language=request.language if request.multilingual else "en",
        language_probability=1.0,
        duration=item.duration,
        words=tuple(_words(segments)) if request.word_timestamps else (),
        no_speech_probability=_no_speech_probability(decoded),
        avg_logprob=_weighted_avg_logprob(segments),
    )
    return _Decoded(transcript, tuple(decoded), sum(_text_tokens(s) for s in decoded))


class WhisperBatchTranscriber:
    """A ``WhisperTranscriber`` that can also take a batch (for ``SttBatcher``).

    Single calls, language identification and the name are the wrapped transcriber's.
    """

    def __init__(self, transcriber: WhisperTranscriber) -> None:
        self.transcriber = transcriber
        self.name = transcriber.name

    def transcribe(
        self,
        audio: Audio,
        *,
        language: str | None = None,
        task: Task = "transcribe",
        word_timestamps: bool = False,
    ) -> Transcript:
        """The single path (``WhisperTranscriber.transcribe``)."""
        return self.transcriber.transcribe(
            audio, language=language, task=task, word_timestamps=word_timestamps
        )

    def detect_language(
        self, audio: Audio, *, short_window: bool = False
    ) -> tuple[str, float, dict[str, float]]:
        """The wrapped transcriber's language identification."""
        return self.transcriber.detect_language(audio, short_window=short_window)

    def can_batch(self, *, language: str | None, task: Task) -> bool:
        """Whether such requests may share a batch (not language detection)."""
        return can_batch(self.transcriber, language=language)

    def transcribe_batch(
        self,
        audios: Sequence[Audio],
        *,
        language: str | None,
        task: Task,
        word_timestamps: bool,
    ) -> list[Transcript | None]:
        """One transcript per utterance, or ``None`` where the single path must decide."""
        outcomes = transcribe_batch(
            self.transcriber,
            audios,
            language=language,
            task=task,
            word_timestamps=word_timestamps,
        )
        return [o if isinstance(o, Transcript) else None for o in outcomes]
