"""Teacher-forced support of a given text: Whisper made to read the target sentence.

Whisper's word timestamps come from one forced alignment pass of the decoded tokens
over the encoder output (CTranslate2 ``Whisper.align``), which also returns each
token's probability under the audio. Given another text, the same pass says how
well the audio supports each of its words, at the cost of one encoding (kept by the
encoder memo when the transcription used the same window) and one decoder pass over
the text's tokens, with no decoding. Assessment asks it of the target sentence when
what tiny.en wrote disagrees with the target (``ustad.assess.support``).
"""

from __future__ import annotations

import difflib
import unicodedata
from dataclasses import replace
from typing import Any

import numpy as np
from faster_whisper.audio import pad_or_trim
from faster_whisper.tokenizer import Tokenizer

from ustad.speech.types import WordSupport
from ustad.speech.whisper.checks import kept_segments, token_budget
from ustad.speech.whisper.transcript import text_of
from ustad.speech.whisper.window import FULL_WINDOW_FRAMES, WindowedWhisperModel


def reading_text(text: str) -> str:
    """The text as Whisper writes it: an all-capitals sentence ("TOM LIKES TEA", as
    some corpora and teachers type targets) in sentence case, anything else unchanged.

    Whisper never writes capitals throughout, so forcing them scores the casing, not
    the sound (measured: the first word's probability of "then" 0.2, in capitals far
    lower).
    """
    letters = [c for c in text if c.isalpha()]
    if letters and all(c.isupper() for c in letters):
        lowered = text.lower()
        return lowered[:1].upper() + lowered[1:]
    return text


MAX_ALIGN_TOKENS = 440
"""Most tokens (prompt included) read against the audio: Whisper's decoder has 448
positions, and a target longer than that gets no support (0) rather than an error."""


def forced_support(
    model: WindowedWhisperModel,
    samples: np.ndarray[Any, np.dtype[np.float32]],
    text: str,
    window_frames: int | None,
) -> tuple[WordSupport, ...]:
    """Per whitespace word of ``text``, the mean probability of its tokens that hold a
    letter or digit when ``model`` reads ``text`` against ``samples`` (16 kHz mono) in
    a window of ``window_frames`` mel frames (``None``: 30 s). A word with no such token
    (a lone dash) gets probability 1: there is nothing in it to say. Empty text or
    audio gives no (or zero) support.
    """
    written = text.split()
    if not written:
        return ()
    if samples.size == 0:
        return tuple(WordSupport(word, 0.0) for word in written)
    tokenizer = Tokenizer(
        model.hf_tokenizer, model.model.is_multilingual, task="transcribe", language="en"
    )
    # Each word is encoded after a space on its own: the BPE pre-tokenizer splits at
    # spaces anyway, so the tokens are the sentence's and each word's span is known.
    spans: list[list[int]] = []
    tokens: list[int] = []
    for word in reading_text(text).split():
        ids = tokenizer.encode(" " + word)
        spans.append(list(range(len(tokens), len(tokens) + len(ids))))
        tokens += ids
    if len(tokens) + len(tokenizer.sot_sequence) > MAX_ALIGN_TOKENS:
        # Longer than Whisper's decoder positions: no second opinion rather than garbage.
        return tuple(WordSupport(word, 0.0) for word in written)
    # The features the transcription's first window encodes (faster-whisper drops the
    # last, partial frame and pads to 30 s), so the encoder memo can serve them.
    features = model.feature_extractor(samples)
    frames = max(1, min(FULL_WINDOW_FRAMES, features.shape[-1] - 1))
    with model.window(window_frames):
        encoded = model.encode(pad_or_trim(features[:, :frames]))
    (result,) = model.model.align(encoded, tokenizer.sot_sequence, [tokens], frames)
    probabilities = list(result.text_token_probs)
    found = []
    for word, span in zip(written, spans, strict=True):
        spoken = [
            probabilities[i]
            for i in span
            if any(c.isalnum() for c in tokenizer.decode([tokens[i]]))
        ]
        found.append(WordSupport(word, float(np.mean(spoken)) if spoken else 1.0))
    return tuple(found)


def prompted_reading(
    model: WindowedWhisperModel,
    samples: np.ndarray[Any, np.dtype[np.float32]],
    duration: float,
    text: str,
    window_frames: int | None,
) -> str:
    """What ``model`` writes of ``samples`` (16 kHz mono, ``duration`` s) in English,
    greedy, in a window of ``window_frames`` mel frames (``None``: 30 s), with ``text``
    as the prompt: Whisper reads a prompt as the words said before the window, so a
    word it is unsure of leans to the text's ("Yes are coming." -> "Guests are
    coming.", the packaged Piper voice), while a word the audio clearly says otherwise
    stays as said (measured on the phrase bank: "sugar" for a target of "salt").
    Repetition loops are left out as in any transcription."""
    with model.window(window_frames):
        segments, _ = model.transcribe(
            samples,
            language="en",
            task="transcribe",
            beam_size=1,
            temperature=[0.0],
            initial_prompt=text,
            vad_filter=False,
            condition_on_previous_text=False,
            without_timestamps=True,
            max_new_tokens=token_budget(duration),
        )
        decoded = tuple(segments)
    return text_of(kept_segments(decoded))


def _plain(word: str) -> str:
    """A word compared with another: case-folded, letters, digits and apostrophes only."""
    return "".join(c for c in word.casefold() if c.isalnum() or c == "'")


def mark_prompted(support: tuple[WordSupport, ...], written: str) -> tuple[WordSupport, ...]:
    """``support`` with ``prompted`` set on each word that ``written`` (the text the
    recogniser wrote when prompted with the support's text) has in the same place:
    the words of equal runs when both word lists are matched in order (``difflib``),
    compared case-folded without punctuation ("tea." is "Tea")."""
    target = [_plain(s.word) for s in support]
    heard = [_plain(w) for w in unicodedata.normalize("NFC", written).split()]
    matcher = difflib.SequenceMatcher(a=target, b=heard, autojunk=False)
    same = {
        block.a + k
        for block in matcher.get_matching_blocks()
        for k in range(block.size)
        if target[block.a + k]
    }
    return tuple(replace(s, prompted=i in same) for i, s in enumerate(support))
