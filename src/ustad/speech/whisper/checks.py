"""Checks on what Whisper decoded: repetition loops, token budget, short-window doubts.

faster-whisper's own checks (gzip compression ratio, mean log-prob) decide when it
decodes a window again at a higher temperature. The checks here add what those
miss: a loop too short for gzip to notice, a decode that used up its token budget,
and the failures peculiar to a short encoder window. All of them read
faster-whisper ``Segment``s (``text``, ``tokens``, ``avg_logprob``,
``compression_ratio``, ``no_speech_prob``, ``start``, ``end``), which are untyped.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence
from itertools import pairwise
from typing import Any

from ustad.speech.whisper.transcript import Decoded, text_of

REPETITION_COMPRESSION_RATIO = 2.4
"""gzip ratio above which a window's text is a repetition loop (Whisper's own threshold).

faster-whisper already retries such windows at higher temperatures; one still above
it after every retry is a hallucination and is dropped. The ratio comes with every
segment, so this guard costs nothing. gzip's own overhead keeps the ratio of a short
text low, though: "پیش اگر" and "ایسا" six times, 34 tokens of a loop on 2 s of
silence, scores 2.16. ``has_repetition_loop`` catches what it misses.
"""

TOKENS_PER_SECOND = 24
"""Decoding budget per second of audio (plus ``TOKEN_ALLOWANCE``).

Real speech stays far below it (Urdu script, the costliest, measured about 8 tokens/s;
fast speech might reach 15). A repetition loop otherwise runs to Whisper's 448-token
limit at every fallback temperature: measured 28 s for 3 s of silence with
``language="ur"``, the one case where Whisper does not skip silence.

CTranslate2 4.8's Whisper decoder stops after half of ``max_length`` (prompt plus
budget) new tokens (measured: 34 tokens for 2 s of silence decoded as a loop), so the
budget in effect is about 12 tokens per second plus 10: still half again above the
Urdu rate.
"""
TOKEN_ALLOWANCE = 16
"""Tokens allowed on top of ``TOKENS_PER_SECOND`` (room for a short clip's sentence)."""
MAX_NEW_TOKENS = 440
"""Whisper's 448-token context minus the longest prompt (start, language, task,
no-timestamps)."""

LOG_PROB_RETRY = -1.0
"""Whisper's default: a window whose mean token log-prob is lower is decoded again."""

SHORT_WINDOW_LOG_PROB_RETRY = -1.15
"""Mean token log-prob below which a short-window result is decoded again in full
(base, and tiny.en's quick reading; tiny.en's other readings keep it unless
``stt.english_low_logprob_redo``: docs/measurements.md, "tiny.en keeps its unsure
short reading").

Log-probs run lower in a short window (tiny.en, 300 speechocean762 clips, greedy:
median -0.74 against -0.67). At Whisper's -1.0 the short window rejected 68 clips
where the full window retries 43; -1.15 rejects 44, the same share. Every rejection
costs a second, full decode, and those make most of the mean time per clip; replaying
the same decodes offline, the WER at -1.15 was 0.2 point above that at -1.0.
"""

MAX_WORDS_PER_SECOND = 4.5
"""More words than this per second of clip (plus ``SHORT_WINDOW_WORDS``) is invented text.

None of the 300 speechocean762 full-window transcripts exceeds 3.5 words/s (their
clips include the silence around the sentence); the loops a short window produced
ran at 5-13.
"""
SHORT_WINDOW_WORDS = 2
"""Words allowed on top of ``MAX_WORDS_PER_SECOND`` ("Thank you very much." in 1 s)."""

LOOP_UNIT_MAX_WORDS = 4
"""Longest run of words ``has_repetition_loop`` looks for coming round again."""
LOOP_MIN_LETTERS = 8
"""Fewest letters a loop inside one word must span ("hahahaha", "ڈڈڈڈڈڈڈڈ"): eight
keeps "Nooo" and "1000" as words."""


def token_budget(seconds: float) -> int:
    """``max_new_tokens`` for a clip of ``seconds`` (at most ``MAX_NEW_TOKENS``)."""
    return min(MAX_NEW_TOKENS, TOKEN_ALLOWANCE + math.ceil(seconds * TOKENS_PER_SECOND))


def segment_tokens(segment: Any) -> int:
    """Tokens a segment decoded, timestamp tokens included (they count against the budget)."""
    return len(segment.tokens)


def plain_words(text: str) -> list[str]:
    """The words of ``text`` in any script, case-folded, punctuation and symbols removed.

    Apostrophes stay inside words (``don't``); every other punctuation mark or symbol
    (Latin or Urdu: ``،`` ``۔`` ``؟``) separates words, so "1,5,3" is three words.
    Combining marks (Urdu diacritics) stay part of their word.
    """
    kept = [
        " " if unicodedata.category(ch)[0] in "PSZ" and ch != "'" else ch for ch in text.casefold()
    ]
    return "".join(kept).split()


def repeats_itself(words: Sequence[str]) -> bool:
    """True when a run of words comes again straight after itself.

    One or two words must come three times in a row ("very very very", "go to go to
    go to"), since a word said twice is ordinary speech (and learners stammer);
    three or more words twice in a row ("so Mary went on to study so Mary went on to
    study") are the sentence said again, which a short window invents. Too eager to
    drop text on (a learner may say a sentence twice): it only sends a short-window
    decode on to the full window. ``has_repetition_loop`` is the check that drops.
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


def has_repetition_loop(words: Sequence[str]) -> bool:
    """True when the words hold a decoding loop: a short run said over and over.

    A loop is one word four times in a row, or a run of two to
    ``LOOP_UNIT_MAX_WORDS`` words three times in a row, anywhere in the text (after
    a few real words, too: "پیش اگر ایسا ایسا ایسا ایسا"). A loop the token budget
    cut off mid-run counts its unfinished last turn when it ends the text ("ایسا
    ایسا ایسا ای"). A word that is itself a loop of a few letters counts too
    ("اڈڑڈڈڑڈڈڈڈڈڈڈڈ": see ``LOOP_MIN_LETTERS``). Ordinary speech repeats less:
    "very very good", "no, no, no", a sentence said twice. Words are compared without
    their combining marks (a loop's vowel marks may change from turn to turn). ``words`` as
    ``plain_words`` gives them. A drill ("very" said eight times) trips it too, and
    is not thrown away on that: the transcriber decodes such a clip again one voiced
    region at a time (``pieces``), where the pauses show how often it was said.
    """
    words = [_skeleton(word) for word in words]
    if any(_letter_loop(word) for word in words):
        return True
    count = len(words)
    for size in range(1, LOOP_UNIT_MAX_WORDS + 1):
        needed = 4 if size == 1 else 3
        for start in range(count - size * 2 + 1):
            unit = words[start : start + size]
            turns = 1
            end = start + size
            while words[end : end + size] == unit:
                turns += 1
                end += size
            if turns >= needed or (turns + 1 >= needed and _cut_short(words[end:], unit)):
                return True
    return False


def _skeleton(word: str) -> str:
    """``word`` without its combining marks: a loop may vary its vowel marks from turn
    to turn ("اَبْسَ اَبْسُ اَبْسَ اَبْسُ", decoded from 2 s of silence on one CPU)."""
    return "".join(ch for ch in unicodedata.normalize("NFD", word) if not unicodedata.combining(ch))


def _cut_short(tail: Sequence[str], unit: Sequence[str]) -> bool:
    """Whether ``tail`` (the text's end) is the start of one more turn of ``unit``."""
    if not tail or len(tail) > len(unit):
        return False
    *whole, last = tail
    return list(whole) == list(unit[: len(whole)]) and unit[len(whole)].startswith(last)


def _letter_loop(word: str) -> bool:
    """Whether a run of one to six letters comes round at least four times in a row in
    ``word``, over ``LOOP_MIN_LETTERS`` letters or more."""
    length = len(word)
    for size in range(1, 7):
        for start in range(length - size * 4 + 1):
            unit, end = word[start : start + size], start + size
            while word[end : end + size] == unit:
                end += size
            if end - start >= max(LOOP_MIN_LETTERS, size * 4):
                return True
    return False


def missed_loop(segments: Sequence[Any]) -> bool:
    """Whether the segments hold a repetition loop that their gzip ratios did not show.

    faster-whisper decodes a window again at the next temperature only for its own
    checks, so such a loop was kept as decoded; this says it should not have been.
    A loop spread over several segments counts.
    """
    unseen = [s for s in segments if float(s.compression_ratio) <= REPETITION_COMPRESSION_RATIO]
    return has_repetition_loop(plain_words(text_of(unseen)))


def kept_segments(segments: Sequence[Any]) -> list[Any]:
    """The segments worth a transcript: repetition loops left out, and none at all
    when the segments left still make a loop together (a loop spread over segments)."""
    kept = [s for s in segments if not is_repetition(s)]
    if has_repetition_loop(plain_words(text_of(kept))):
        return []
    return kept


def is_repetition(segment: Any) -> bool:
    """Whether a decoded segment is a repetition loop (by its gzip ratio or by its words)."""
    if float(segment.compression_ratio) > REPETITION_COMPRESSION_RATIO:
        return True
    return has_repetition_loop(plain_words(segment.text))


def no_speech_probability(segments: Sequence[Any]) -> float:
    """The highest no-speech probability of the segments, 0-1 (1.0 when there are none)."""
    # No segments at all means Whisper judged every window silent (no-speech probability
    # above 0.6 with a low log-prob) and skipped it.
    if not segments:
        return 1.0
    return max(float(s.no_speech_prob) for s in segments)


def weighted_avg_logprob(segments: Sequence[Any]) -> float:
    """Mean token log-prob of the segments, weighted by their seconds (0.0 for none)."""
    if not segments:
        return 0.0
    weights = [max(float(s.end) - float(s.start), 1e-3) for s in segments]
    total = sum(w * float(s.avg_logprob) for w, s in zip(weights, segments, strict=True))
    return total / sum(weights)


LOOP_DOUBTS = frozenset({"repetition", "segment repeated", "words repeated", "token budget"})
"""The reasons of :func:`short_window_doubt` that a repetition loop gives (what a drill
said many times gives in any window)."""


def short_window_doubt(
    decoded: Decoded, duration: float, *, low_logprob: bool = True
) -> str | None:
    """Why a short-window transcription should be decoded again in the full window, if so.

    ``duration`` is the clip's length in seconds. Each check is a failure seen in
    short windows (tiny.en, speechocean762): the sentence said twice as two segments,
    "1, 5, 3, 1, 5, 3, ..." loops, text invented past the end of the speech, and
    (with ``low_logprob``) misheard clips with low log-probs, which the full window
    would decode again at higher temperatures.
    """
    segments = decoded.segments
    if any(is_repetition(s) for s in segments):
        return "repetition"
    if not decoded.transcript.text:
        # Whisper skipped the window as silence; the runtime only transcribes what its
        # VAD calls speech, so this is more likely the short window failing.
        return "no text"
    texts = [plain_words(s.text) for s in segments]
    if any(a and a == b for a, b in pairwise(texts)):
        return "segment repeated"
    if repeats_itself([word for text in texts for word in text]):
        return "words repeated"
    # A decode that ran to the budget is a loop the checks above missed (faster-whisper
    # drops an unfinished last segment, so part of such a loop may not be counted).
    if decoded.tokens >= token_budget(duration):
        return "token budget"
    words = len(decoded.transcript.text.split())
    if words > SHORT_WINDOW_WORDS + MAX_WORDS_PER_SECOND * duration:
        return "too many words"
    if low_logprob and any(float(s.avg_logprob) < SHORT_WINDOW_LOG_PROB_RETRY for s in segments):
        return "low log-prob"
    return None
