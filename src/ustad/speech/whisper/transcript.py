"""ustad's ``Transcript`` and ``Word``s from what faster-whisper decoded."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ustad.speech.types import Transcript, Word


@dataclass(frozen=True)
class Decoded:
    """One decode of a clip: the transcript it gives and what it was made from."""

    transcript: Transcript
    """What the clip says (repetition loops left out)."""
    segments: tuple[Any, ...]
    """Every faster-whisper ``Segment`` decoded, repetition loops included."""
    tokens: int
    """Tokens decoded over all segments (timestamp tokens included)."""


def words_of(segments: Sequence[Any]) -> list[Word]:
    """The timed words of faster-whisper segments decoded with ``word_timestamps``.

    Texts are stripped of the leading space Whisper gives each word but keep attached
    punctuation (``study.``); times are seconds from the clip's start; blank words
    are left out. Segments without words give none.
    """
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


def text_of(segments: Sequence[Any]) -> str:
    """The segments' texts joined as Whisper spaced them, without outer whitespace."""
    return "".join(s.text for s in segments).strip()
