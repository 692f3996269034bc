"""Whisper's segments one at a time, as faster-whisper decodes them (streamed text).

faster-whisper's ``transcribe`` returns a lazy generator: each 30 s window is decoded
when the next segment is asked for, and its segments come out as soon as it is done.
``decoded_segments`` passes them on in that rhythm, in ustad's shape, leaving out
what a whole transcription leaves out: segments that are repetition loops, and
everything from the point where the text said so far starts to go round (a loop
spread over segments). It is one pass in the full window: the extra decodes of
``WhisperTranscriber.transcribe`` (the short window, sampled retries of a loop
faster-whisper kept, voiced pieces of a drill) need the whole decode first, so a
streamed text can differ from a whole one where those would have changed it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
from faster_whisper import WhisperModel

from ustad.speech.types import SAMPLE_RATE, Task, TranscriptSegment
from ustad.speech.whisper.checks import (
    LOG_PROB_RETRY,
    has_repetition_loop,
    is_repetition,
    plain_words,
    token_budget,
)
from ustad.speech.whisper.transcript import segments_of

WINDOW_SECONDS = 30.0
"""Whisper's window: the token budget applies to each."""


def decoded_segments(
    model: WhisperModel,
    samples: np.ndarray[Any, np.dtype[np.float32]],
    language: str | None,
    task: Task,
    beam_size: int,
    temperatures: Sequence[float],
) -> Iterator[TranscriptSegment]:
    """The segments of 16 kHz mono ``samples`` as ``model`` decodes them (a generator:
    nothing is decoded before the first is asked for, and closing it stops the
    decoding before the next window). Times are seconds from the start; texts have no
    outer whitespace; blank and looping segments are left out (see the module)."""
    duration = len(samples) / SAMPLE_RATE
    if not duration:
        return
    segments, _ = model.transcribe(
        samples,
        language=language,
        task=task,
        beam_size=beam_size,
        temperature=list(temperatures),
        vad_filter=False,
        condition_on_previous_text=False,
        # Timestamps cut a window into sentences: segments as Whisper marks them.
        without_timestamps=False,
        word_timestamps=False,
        log_prob_threshold=None if task == "translate" else LOG_PROB_RETRY,
        max_new_tokens=token_budget(min(duration, WINDOW_SECONDS)),
    )
    words: list[str] = []
    try:
        for segment in segments:
            if is_repetition(segment):
                continue
            words += plain_words(str(segment.text))
            if has_repetition_loop(words):
                return
            yield from segments_of([segment])
    finally:
        close = getattr(segments, "close", None)  # a generator: stop its decoding
        if callable(close):
            close()
