"""Speech said over and over (a drill), decoded again one voiced region at a time.

A learner drilling a word or a short sentence ("very" eight times, "No, I am not." six
times) gives Whisper the very input its decoder loops on: greedy decoding of the whole
clip runs far past the real repeats (tiny.en: a gzip ratio of 37 on "No, I am not."
said six times in 21 s), so the loop checks drop the whole text and the learner is told
nothing was heard. Sampled retries and faster-whisper's own VAD filter loop as well.

The pauses between the repeats are the evidence of how often something was said, so a
clip whose decode was dropped as a loop (or ran to its token budget, gave no text, or
fewer words than voiced regions) is decoded again in pieces: each region Silero VAD calls speech
(``ustad.speech.audio.detect_speech``) on its own, then the texts are joined. A piece
is too short to loop, and a repeat that is in the text once per piece is a repeat that
was said. What is still a loop inside one piece is dropped as before, and so is a
piece with more words than its seconds of speech could hold; silence and noise give
no voiced regions, or one, and keep the whole-clip result (no text for a loop).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from itertools import pairwise

from ustad.speech.audio import detect_speech
from ustad.speech.types import SAMPLE_RATE, Audio, Transcript, Word
from ustad.speech.whisper.checks import (
    MAX_WORDS_PER_SECOND,
    SHORT_WINDOW_WORDS,
    has_repetition_loop,
    is_repetition,
    plain_words,
    token_budget,
)
from ustad.speech.whisper.transcript import Decoded, text_of

PIECE_PAD_SECONDS = 0.2
"""Audio kept on either side of a voiced region decoded alone, never past half the
pause to the next region: Silero's own 30 ms padding (``detect_speech``) sits tight on
the speech, and a word's soft onset or release may fall outside it. A margin chosen,
not tuned: drill pauses (0.5-1.1 s in the tests, 0.6-0.9 s in the shared cases) leave
room for it."""

SPARSE_WORDS_PER_SECOND = 0.5
"""A transcript with fewer words than this per second of clip is compared with the
clip's voiced regions, and decoded again in pieces when it has fewer words than
regions (base heard "Good morning." said eight times in 12.7 s as one "Good
morning!"). On the 300 speechocean762 clips 1 tiny.en transcript and 5 base ones are
that sparse (a digit string as one word, one-word answers), and at most one has
fewer words than regions; the look costs one VAD pass (about 15 ms of CPU a clip)."""

MIN_PIECES = 2
"""Fewest voiced regions worth decoding one by one: with one, the piece is the clip."""

MAX_PIECES = 24
"""Most pieces one clip is decoded in; regions past it are merged across their
shortest pauses. A drill of a two-part sentence ("No," / "I am not.") said ten times
in 30 s is 20 regions; each piece costs a short-window decode, and a second one in
the full window when that is in doubt (one-word pieces often are; a doubt of its
log-prob alone does not count for tiny.en as served: ``redo_low_logprob``)."""


@dataclass(frozen=True)
class Piece:
    """A stretch of a clip decoded on its own, in seconds from the clip's start."""

    start: float
    end: float
    voiced: float
    """Seconds of it that the VAD called speech (the padding left out)."""

    def samples(self, audio: Audio) -> Audio:
        """This stretch of ``audio``."""
        first, last = round(self.start * SAMPLE_RATE), round(self.end * SAMPLE_RATE)
        return Audio(audio.samples[first:last], audio.sample_rate)


def lost_speech(decoded: Decoded, duration: float) -> str | None:
    """Why a whole-clip decode should be decoded again in pieces, if so.

    A segment dropped as a repetition loop, a loop spread over the segments (both of
    which ``checks.kept_segments`` leaves out of the text), a decode that used its
    whole token budget (``duration`` seconds of clip), or no text at all (base
    decoding "very" said eight times with word timestamps skipped the whole window
    as no speech) may be real speech lost. Pieces are only decoded where the VAD
    finds speech, so for silence and noise this costs one VAD pass.
    """
    if any(is_repetition(s) for s in decoded.segments):
        return "repetition dropped"
    if has_repetition_loop(plain_words(text_of(decoded.segments))):
        return "repetition dropped"
    if decoded.tokens >= token_budget(duration):
        return "token budget"
    if not decoded.transcript.text:
        return "no text"
    return None


def pieces_to_decode(audio: Audio, decoded: Decoded) -> tuple[str, list[Piece]]:
    """Why, and in which pieces, ``audio`` should be decoded again after ``decoded``.

    ``("", [])`` when its decode stands: nothing lost (``lost_speech``) and enough
    words (``SPARSE_WORDS_PER_SECOND``), or fewer than ``MIN_PIECES`` voiced regions
    to decode one by one. Only a lost or sparse decode costs a VAD pass.
    """
    reason = lost_speech(decoded, audio.duration)
    words = len(plain_words(decoded.transcript.text))
    if reason is None and words < SPARSE_WORDS_PER_SECOND * audio.duration:
        reason = "fewer words than voiced regions"
    if reason is None:
        return "", []
    pieces = voiced_pieces(audio)
    if reason == "fewer words than voiced regions" and len(pieces) <= words:
        return "", []
    return reason, pieces


def voiced_pieces(audio: Audio) -> list[Piece]:
    """The voiced regions of ``audio`` as pieces to decode one by one.

    Empty when there are fewer than ``MIN_PIECES`` (silence, noise, one stretch of
    speech without a pause). Regions are merged across their shortest pauses until
    there are at most ``MAX_PIECES``.
    """
    spans = list(detect_speech(audio))
    if len(spans) < MIN_PIECES:
        return []
    groups = [[span] for span in spans]
    while len(groups) > MAX_PIECES:
        gaps = [b[0].start - a[-1].end for a, b in pairwise(groups)]
        shortest = gaps.index(min(gaps))
        groups[shortest : shortest + 2] = [groups[shortest] + groups[shortest + 1]]
    pieces = []
    for index, group in enumerate(groups):
        start, end = group[0].start, group[-1].end
        # Never past half the pause to a neighbour; up to the clip's own edges.
        lowest = (groups[index - 1][-1].end + start) / 2 if index else 0.0
        highest = (end + groups[index + 1][0].start) / 2 if index + 1 < len(groups) else None
        pieces.append(
            Piece(
                start=max(lowest, start - PIECE_PAD_SECONDS),
                end=min(highest or audio.duration, end + PIECE_PAD_SECONDS, audio.duration),
                voiced=sum(span.duration for span in group),
            )
        )
    return pieces


def believable(piece: Piece, transcript: Transcript) -> bool:
    """Whether a piece's text fits its speech: at most ``MAX_WORDS_PER_SECOND`` words per
    voiced second, plus ``SHORT_WINDOW_WORDS`` (a loop inside one short piece is not)."""
    words = len(plain_words(transcript.text))
    return words <= SHORT_WINDOW_WORDS + MAX_WORDS_PER_SECOND * piece.voiced


def joined(pieces: Sequence[tuple[Piece, Transcript]], whole: Transcript) -> Transcript:
    """One transcript of the clip from its pieces' transcripts, in order.

    Texts are joined with a space; word and segment times are moved from the piece's
    start to the clip's; the mean log-prob is weighted by the pieces' voiced seconds; the no-speech
    probability is the highest of the pieces that gave text (1.0 when none did).
    Language, its probability and the duration are ``whole``'s (the clip's decode).
    """
    heard = [(piece, t) for piece, t in pieces if t.text]
    words = tuple(
        Word(w.text, w.start + piece.start, w.end + piece.start, w.probability)
        for piece, transcript in heard
        for w in transcript.words
    )
    weight = sum(piece.voiced for piece, _ in heard)
    avg_logprob = (
        sum(piece.voiced * t.avg_logprob for piece, t in heard) / weight if weight else 0.0
    )
    return Transcript(
        text=" ".join(t.text for _, t in heard),
        language=whole.language,
        language_probability=whole.language_probability,
        duration=whole.duration,
        words=words,
        no_speech_probability=max((t.no_speech_probability for _, t in heard), default=1.0),
        avg_logprob=avg_logprob,
        segments=tuple(
            replace(segment, start=segment.start + piece.start, end=segment.end + piece.start)
            for piece, transcript in heard
            for segment in transcript.segments
        ),
    )
