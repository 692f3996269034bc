"""Turning a target sentence and a transcript into comparable word tokens.

Both sides go through the same rules: lower case, punctuation dropped, hyphenated words
split, contractions expanded ("Don't" -> do not, "can't"/"cannot" -> can not),
possessives kept as one word without the apostrophe ("Mary's" -> marys), a few British
spellings mapped to American ones (:mod:`ustad.text.spelling`), hyphenated compounds
joined ("Wi-Fi" -> wifi), and every written form that is said differently read as it is
said by the same normaliser the English voice uses (:mod:`ustad.text.english`: "50%" ->
fifty percent, "No. 2" -> number two, "St." after a name -> street, "Mon." -> monday,
a phone number digit by digit), so a written and a spoken form are the same answer.

Mapping back: every token records ``source``, the index of the word it came from (a
word of :func:`split_words` for the target, a ``Word`` of the transcript for what was
heard). One written word may give several tokens ("Don't" -> do, not; "2648" read as
two six four eight); the scorer reports one result per written word and combines the
results of its tokens. A written word that gives no token at all (a lone dash) is not
a word and is left out of :func:`split_words`.

Digit tokens of a transcript keep their digits in ``text`` and every way of saying them
in ``readings`` (the reading the neighbouring words suggest first); the aligner picks
the reading that fits the target. Digits in a target are replaced by their most usual
reading in context straight away.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ustad.text.english import SpokenWord, read_words
from ustad.text.numbers import Reading, has_digit, readings
from ustad.text.spelling import CLOSED_COMPOUNDS, SPELLING_VARIANTS

FILLERS: frozenset[str] = frozenset(
    {"um", "umm", "uh", "uhh", "uhm", "er", "erm", "err", "hmm", "hm", "mm", "mmm", "mhm"}
    | {"ah", "ahh", "eh", "huh"}
)
"""Hesitation sounds: they count against fluency, never as inserted words."""

# Contractions whose stem changes, and other fixed expansions.
IRREGULAR_CONTRACTIONS: dict[str, tuple[str, ...]] = {
    "can't": ("can", "not"),
    "cannot": ("can", "not"),
    "won't": ("will", "not"),
    "shan't": ("shall", "not"),
    "ain't": ("is", "not"),
    "let's": ("let", "us"),
    "y'all": ("you", "all"),
    "'cause": ("because",),
    "'em": ("them",),
    "gonna": ("going", "to"),
    "wanna": ("want", "to"),
    "gotta": ("got", "to"),
    "o'clock": ("oclock",),
}
SUFFIX_CONTRACTIONS: tuple[tuple[str, str], ...] = (
    ("n't", "not"),
    ("'re", "are"),
    ("'ve", "have"),
    ("'ll", "will"),
    ("'d", "would"),
    ("'m", "am"),
)
# Words whose "'s" is "is" rather than a possessive.
IS_CONTRACTION_STEMS: frozenset[str] = frozenset(
    {
        "it",
        "that",
        "what",
        "he",
        "she",
        "there",
        "here",
        "who",
        "where",
        "how",
        "when",
        "why",
        "this",
        "everyone",
        "everything",
        "everybody",
        "someone",
        "something",
        "somebody",
        "nobody",
        "nothing",
        "one",
    }
)
ABBREVIATIONS: dict[str, tuple[str, ...]] = {
    "mr": ("mister",),
    "mrs": ("missus",),
    "dr": ("doctor",),
    "ok": ("okay",),
    "vs": ("versus",),
    "&": ("and",),
}


_NUMBER = r"[$£€₨]?\d+(?:[,.:]\d+)*(?:%|st|nd|rd|th|'?s)?"
_WORD = r"[a-z]+(?:'[a-z]+)*'?|'(?:cause|em)\b"
_PIECE_RE = re.compile(rf"{_NUMBER}|{_WORD}|&")
_ACRONYM_DOT_RE = re.compile(r"(?<=[a-z])\.(?=[a-z])")
EDGE_PUNCTUATION = ".,;:!?\"'()[]{}“”‘’«»…-–—/"
"""Punctuation stripped from the edges of a written word ("tea." -> "tea")."""
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'", "ʼ": "'"})


@dataclass(frozen=True)
class Token:
    """One comparable word."""

    text: str
    """Normalised word (lower case, letters only), or the digits of a number heard."""
    source: int
    """Index of the written word (target) or transcript ``Word`` it came from."""
    readings: tuple[Reading, ...] = ()
    """Ways to say a number heard as digits (empty for ordinary words)."""

    @property
    def is_number(self) -> bool:
        """Whether the aligner must pick one of :attr:`readings`."""
        return bool(self.readings)

    @property
    def is_filler(self) -> bool:
        """A hesitation sound such as "um"."""
        return self.text in FILLERS


def _fold(text: str) -> str:
    """Lower case, plain apostrophes, accents removed ("café" -> cafe)."""
    text = unicodedata.normalize("NFKD", text.translate(_APOSTROPHES).lower())
    return "".join(ch for ch in text if not unicodedata.combining(ch))


def expand_word(piece: str) -> tuple[str, ...]:
    """Contractions, possessives, abbreviations and spelling variants of one word piece."""
    if piece in IRREGULAR_CONTRACTIONS:
        return IRREGULAR_CONTRACTIONS[piece]
    if piece in ABBREVIATIONS:
        return ABBREVIATIONS[piece]
    for suffix, expansion in SUFFIX_CONTRACTIONS:
        if piece.endswith(suffix) and len(piece) > len(suffix):
            return (*expand_word(piece[: -len(suffix)]), expansion)
    if piece.endswith("'s") and len(piece) > 2:
        stem = piece[:-2]
        if stem in IS_CONTRACTION_STEMS:
            return (stem, "is")
        piece = stem + "s"  # possessive: kept as one word, apostrophe dropped
    word = piece.replace("'", "")
    if not word:
        return ()
    return (SPELLING_VARIANTS.get(word, word),)


def word_pieces(word: str) -> list[str]:
    """The raw lower-case pieces of one written word (hyphens and punctuation split it)."""
    text = _ACRONYM_DOT_RE.sub("", _fold(word))
    return _PIECE_RE.findall(text)


def _join_compounds(words: list[str]) -> list[str]:
    """Pieces of one hyphenated word that make a closed compound ("wi", "fi" -> wifi)."""
    joined: list[str] = []
    for word in words:
        pair = (joined[-1], word) if joined else None
        if pair is not None and pair in CLOSED_COMPOUNDS:
            joined[-1] = CLOSED_COMPOUNDS[pair]
        else:
            joined.append(word)
    return joined


def _plain_word(word: str) -> list[str]:
    """Comparable words of one written word said as written (no context needed)."""
    words: list[str] = []
    for piece in word_pieces(word):
        if has_digit(piece):
            spoken = readings(piece)
            if spoken:
                words += _clean_reading(spoken[0])
        else:
            words += expand_word(piece)
    return _join_compounds(words)


def _clean_reading(reading: Reading) -> list[str]:
    """A spoken reading as comparable words ("o'clock" -> oclock, "forty-five" split)."""
    words: list[str] = []
    for word in reading:
        for part in _fold(word).replace("-", " ").split():
            cleaned = part.replace("'", "").strip(".")
            if cleaned:
                words.append(cleaned)
    return words


def _word_tokens(spoken: SpokenWord) -> list[str]:
    if spoken.readings:
        return _clean_reading(spoken.readings[0])
    return _plain_word(spoken.written)


def normalize_word(word: str) -> list[str]:
    """All comparable words of one written word on its own (no neighbours to read by).

    >>> normalize_word("Don't")
    ['do', 'not']
    """
    return _word_tokens(read_words([word])[0])


def _written_words(text: str) -> list[tuple[str, list[str]]]:
    """Each written word of ``text`` (edge punctuation stripped) with its tokens."""
    raw = [_fold_apostrophes(word) for word in text.split()]
    found: list[tuple[str, list[str]]] = []
    for written, spoken in zip(text.split(), read_words(raw), strict=True):
        word = written.strip(EDGE_PUNCTUATION)
        tokens = _word_tokens(spoken)
        if word and tokens:
            found.append((word, tokens))
    return found


def _fold_apostrophes(word: str) -> str:
    return word.translate(_APOSTROPHES)


def split_words(text: str) -> tuple[str, ...]:
    """The words of a target as written, stripped of surrounding punctuation.

    "Please, don't go!" -> ("Please", "don't", "go"). Words that hold nothing to say
    (a lone dash, the "Rs." whose "rupees" is said after "Rs. 500") are dropped, so
    every word returned gives at least one token.
    """
    return tuple(word for word, _ in _written_words(text))


@dataclass(frozen=True)
class NormalizedTarget:
    """A target sentence: its written words and their tokens."""

    words: tuple[str, ...]
    tokens: tuple[Token, ...]


def normalize_target(text: str) -> NormalizedTarget:
    """Tokens of a target sentence; ``Token.source`` indexes ``words``.

    Each written word is read in the context of its neighbours ("Dr. Smith" -> doctor,
    "Baker St." -> street, "0300 1234567" digit by digit), its most usual reading.
    """
    found = _written_words(text)
    tokens = tuple(Token(token, index) for index, (_, said) in enumerate(found) for token in said)
    return NormalizedTarget(tuple(word for word, _ in found), tokens)


def normalize_heard(words: Sequence[str] | Iterable[str]) -> tuple[Token, ...]:
    """Tokens of what was heard, one entry of ``words`` per recognised word.

    A word with digits stays one token with every reading (the reading its neighbours
    suggest first: "No. 2", "$5 million", "9:30 a.m."); an abbreviation is read in
    context ("St." after a name -> street); everything else is expanded like the target.
    ``Token.source`` is the index in ``words``.
    """
    pieces = _joined_numbers([_fold_apostrophes(word.strip()) for word in words])
    tokens: list[Token] = []
    for (index, _), spoken in zip(pieces, read_words([text for _, text in pieces]), strict=True):
        if spoken.readings and has_digit(spoken.core):
            options = tuple(
                dict.fromkeys(
                    tuple(_clean_reading(r))
                    for r in (*spoken.readings, *readings(spoken.core.lower()))
                )
            )
            options = tuple(option for option in options if option)
            if options:
                tokens.append(Token(spoken.core.lower(), index, options))
        else:
            tokens += [Token(text, index) for text in _word_tokens(spoken)]
    return tuple(tokens)


_NUMBER_TAIL_RE = re.compile(r"^[.,:]\d")


def _joined_numbers(words: list[str]) -> list[tuple[int, str]]:
    """Recognised words with a number split over two of them joined again.

    Whisper's word timing sometimes cuts "9.30" into "9" + ".30" and "1,200" into "1" +
    ",200"; read apart they say "nine zero point three zero". The joined number keeps
    the index of its first word; the tail word gives no token of its own.
    """
    joined: list[tuple[int, str]] = []
    for index, word in enumerate(words):
        if joined and _NUMBER_TAIL_RE.match(word) and joined[-1][1][-1:].isdigit():
            joined[-1] = (joined[-1][0], joined[-1][1] + word)
        else:
            joined.append((index, word))
    return joined


def normalize_text(text: str) -> list[str]:
    """Comparable words of free text, each read in context (for WER)."""
    return [token for _, said in _written_words(text) for token in said]
