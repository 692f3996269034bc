"""Cutting text into pieces a synthesiser can say in bounded time and memory.

A VITS voice synthesises a whole sentence in one inference whose memory grows with
its length: 4096 characters with no punctuation took one engine thread 60 s and
6 GB. Each piece here is at most ``max_chars`` long, cut at the strongest boundary
available: a sentence end, then a clause mark, then a space, and only a run with
no space at all is cut inside a word.
"""

from __future__ import annotations

import re
from typing import Final

SENTENCE_END: Final = re.compile(r"(?<=[.!?۔؟])\s+|\n+")
CLAUSE_MARK: Final = re.compile(r"(?<=[,;:،؛—])\s+")

SECONDS_PER_CHAR: Final = 0.08
"""Speech length per character at speed 1, a generous upper estimate: Piper's
en_US voices and espeak-ng say about 14-16 characters a second in ordinary prose
(measured on the phrase bank's replies)."""


def speakable_chunks(text: str, max_chars: int) -> list[str]:
    """``text`` as stripped pieces of at most ``max_chars`` characters, in order.

    Joining the pieces with single spaces gives back ``text`` with its whitespace
    runs collapsed. Raises ``ValueError`` when ``max_chars`` < 1.
    """
    if max_chars < 1:
        raise ValueError(f"max_chars must be >= 1, got {max_chars}")
    whole = text.strip()
    if len(whole) <= max_chars:  # the usual reply: one piece, exactly as given
        return [whole] if whole else []
    pieces: list[str] = []
    for sentence in SENTENCE_END.split(text):
        for clause in CLAUSE_MARK.split(sentence):
            pieces.extend(_by_words(clause.strip(), max_chars))
    return _merge(pieces, max_chars)


def estimated_seconds(text: str, speed: float) -> float:
    """An upper estimate of how long ``text`` takes to say at ``speed`` (> 0)."""
    return len(text) * SECONDS_PER_CHAR / speed


def _by_words(text: str, max_chars: int) -> list[str]:
    if len(text) <= max_chars:
        return [text] if text else []
    pieces: list[str] = []
    current = ""
    for word in text.split():
        while len(word) > max_chars:  # no space to cut at: cut the run itself
            if current:
                pieces.append(current)
                current = ""
            pieces.append(word[:max_chars])
            word = word[max_chars:]
        if current and len(current) + 1 + len(word) > max_chars:
            pieces.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    if current:
        pieces.append(current)
    return pieces


def _merge(pieces: list[str], max_chars: int) -> list[str]:
    """Rejoin neighbouring short pieces, so short sentences stay one inference."""
    merged: list[str] = []
    for piece in pieces:
        if merged and len(merged[-1]) + 1 + len(piece) <= max_chars:
            merged[-1] = f"{merged[-1]} {piece}"
        else:
            merged.append(piece)
    return merged
