"""Turning a target sentence and a transcript into comparable word tokens.

Both sides go through the same rules: lower case, punctuation dropped, hyphenated words
split, contractions expanded ("Don't" -> do not, "can't"/"cannot" -> can not),
possessives kept as one word without the apostrophe ("Mary's" -> marys), a few British
spellings mapped to American ones, and common abbreviations spelled out.

Mapping back: every token records ``source``, the index of the word it came from (a
word of :func:`split_words` for the target, a ``Word`` of the transcript for what was
heard). One written word may give several tokens ("Don't" -> do, not; "2648" read as
two six four eight); the scorer reports one result per written word and combines the
results of its tokens. A written word that gives no token at all (a lone dash) is not
a word and is left out of :func:`split_words`.

Digit tokens of a transcript keep their digits in ``text`` and every way of saying them
in ``readings``; the aligner picks the reading that fits the target. Digits in a target
are replaced by their most usual reading straight away.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ustad.assess.numbers import Reading, has_digit, readings

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


_OUR_WORDS = (
    "colour armour behaviour endeavour favour flavour harbour honour humour labour "
    "neighbour odour parlour rumour savour vapour"
)
_ISE_STEMS = (
    "apologis authoris categoris criticis emphasis finalis maximis memoris minimis "
    "organis prioritis realis recognis specialis summaris analys paralys"
)
_RE_WORDS = "centre theatre metre litre fibre meagre sombre calibre"
_LL_STEMS = "travel cancel label model fuel quarrel signal"
_OTHER_SPELLINGS = {
    "grey": "gray",
    "greys": "grays",
    "programme": "program",
    "programmes": "programs",
    "catalogue": "catalog",
    "cheque": "check",
    "cheques": "checks",
    "tyre": "tire",
    "tyres": "tires",
    "defence": "defense",
    "licence": "license",
    "offence": "offense",
    "jewellery": "jewelry",
    "pyjamas": "pajamas",
    "aluminium": "aluminum",
    "plough": "plow",
    "mould": "mold",
    "aeroplane": "airplane",
    "aeroplanes": "airplanes",
    "mum": "mom",
    "practise": "practice",
    "practised": "practiced",
    "practising": "practicing",
    "storey": "story",
}


def _british_to_american() -> dict[str, str]:
    """A small table of British spellings and their American forms (with inflections)."""
    table: dict[str, str] = {}
    for stem in _OUR_WORDS.split():
        for suffix in ("", "s", "ed", "ing", "ful", "ite", "ites", "able", "hood"):
            table[stem + suffix] = stem[:-3] + "or" + suffix
    for stem in _ISE_STEMS.split():
        for suffix in ("e", "es", "ed", "ing", "ation", "ations"):
            table[stem + suffix] = stem[:-1] + "z" + suffix
    for word in _RE_WORDS.split():
        table[word] = word[:-2] + "er"
        table[word + "s"] = word[:-2] + "ers"
    for stem in _LL_STEMS.split():
        for suffix in ("led", "ling", "ler", "lers"):
            table[stem + suffix] = stem + suffix[1:]
    return table | _OTHER_SPELLINGS


SPELLING_VARIANTS: dict[str, str] = _british_to_american()
"""British spelling -> American spelling; applied to both sides."""

_NUMBER = r"[$£€₨]?\d+(?:[,.:]\d+)*(?:%|st|nd|rd|th|'?s)?"
_WORD = r"[a-z]+(?:'[a-z]+)*'?|'(?:cause|em)\b"
_PIECE_RE = re.compile(rf"{_NUMBER}|{_WORD}|&")
_ACRONYM_DOT_RE = re.compile(r"(?<=[a-z])\.(?=[a-z])")
_EDGE_PUNCTUATION = ".,;:!?\"'()[]{}“”‘’«»…-–—/"
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


def normalize_word(word: str) -> list[str]:
    """All comparable words of one written word; digits are replaced by their usual reading.

    >>> normalize_word("Don't")
    ['do', 'not']
    """
    words: list[str] = []
    for piece in word_pieces(word):
        if has_digit(piece):
            spoken = readings(piece)
            if spoken:
                words += [_clean_reading_word(w) for w in spoken[0]]
        else:
            words += expand_word(piece)
    return words


def _clean_reading_word(word: str) -> str:
    return word.replace("'", "")


def split_words(text: str) -> tuple[str, ...]:
    """The words of a target as written, stripped of surrounding punctuation.

    "Please, don't go!" -> ("Please", "don't", "go"). Words that hold nothing to say
    (a lone dash) are dropped, so every word returned gives at least one token.
    """
    found: list[str] = []
    for raw in text.split():
        word = raw.strip(_EDGE_PUNCTUATION)
        if word and normalize_word(word):
            found.append(word)
    return tuple(found)


@dataclass(frozen=True)
class NormalizedTarget:
    """A target sentence: its written words and their tokens."""

    words: tuple[str, ...]
    tokens: tuple[Token, ...]


def normalize_target(text: str) -> NormalizedTarget:
    """Tokens of a target sentence; ``Token.source`` indexes ``words``."""
    words = split_words(text)
    tokens = tuple(
        Token(token, index) for index, word in enumerate(words) for token in normalize_word(word)
    )
    return NormalizedTarget(words, tokens)


def normalize_heard(words: Sequence[str] | Iterable[str]) -> tuple[Token, ...]:
    """Tokens of what was heard, one entry of ``words`` per recognised word.

    Digit pieces stay as digits with all their readings; everything else is expanded
    like the target. ``Token.source`` is the index in ``words``.
    """
    tokens: list[Token] = []
    for index, word in enumerate(words):
        for piece in word_pieces(word):
            if has_digit(piece):
                spoken = tuple(
                    tuple(_clean_reading_word(w) for w in reading) for reading in readings(piece)
                )
                tokens.append(Token(piece, index, spoken))
            else:
                tokens += [Token(text, index) for text in expand_word(piece)]
    return tuple(tokens)


def normalize_text(text: str) -> list[str]:
    """Comparable words of free text, digits read in their most usual way (for WER)."""
    return [token for word in text.split() for token in normalize_word(word)]
