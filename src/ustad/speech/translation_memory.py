"""Translation memory: recognise a phrase-bank sentence in a noisy transcript.

Whisper's Urdu is noisy in two ways that a plain string ratio handles badly: letters
inside words come out wrong or missing (ملدور for مزدور, انچہ for اونچا) and word
boundaries move (words split or joined). A one-word-different sentence, on the other
hand, is a different sentence ("مجھے پانی چاہیے" is not "مجھے چائے چاہیے"), yet a
whole-string ratio scores it as high as a misheard copy. So the score works on words:

1. Each word becomes two sound keys: ``full`` (letters folded into sound classes:
   ت/ط, س/ص/ث, ز/ذ/ض/ظ, ک/ق, ح/ہ/ھ, ا/ع are one sound each; word-final ہ is the vowel
   a) and ``skeleton`` (consonants only, voicing pairs b/p, t/d, k/g, j/ch merged).
   A misheard word keeps most of its consonants; a different word does not.
2. The transcript's words are aligned with the entry's words by dynamic programming,
   allowing one word to match two (split or joined words) and words to be left over.
   Word similarity is the mean Levenshtein similarity of the two keys.
3. The score is the length-weighted mean similarity of the aligned words, capped at the
   weakest aligned word's similarity plus ``WORST_WORD_SLACK``: a word with no plausible
   counterpart (a swapped noun, an added "نہیں") sinks the whole match.

A rapidfuzz ratio over the whole key shortlists the few entries worth aligning. Roman
Urdu input is compared with the bank's Roman Urdu the same way (its own keys), and
Devanagari input (Whisper often labels spoken Urdu as Hindi) with the Urdu keys.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise
from typing import Final, Literal, NamedTuple

import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

from ustad.speech.phrasebank import Phrase, PhraseBank
from ustad.speech.types import Translation, TranslationRequest
from ustad.speech.urdu_text import normalize_urdu, script_of, to_display

DEFAULT_THRESHOLD: Final = 82.0

WORST_WORD_SLACK: Final = 0.25
"""The score never exceeds the weakest aligned word's similarity by more than this.

Measured on the bank: a misheard word (طبقے heard as تپے) scores about 0.58, a
swapped word (نام/نمبر, پانی/چائے) 0.25-0.4, so 0.25 keeps the first above the default
threshold and the second well below it."""

CANDIDATES: Final = 5
"""Entries (best by whole-key ratio) that get the full word alignment."""

PREFILTER_FLOOR: Final = 65.0
"""Whole-key ratio below which an entry is not aligned at all. Measured: among 3,560
randomly corrupted bank sentences, every one scoring 82 or more by alignment had a
whole-key ratio of at least 83 (Whisper's "ملدور تپے کے علاوہ": 84)."""

MatchedOn = Literal["urdu", "roman", "devanagari"]

_lev: Final = Levenshtein.normalized_similarity

# Urdu letters -> sound classes. Lower case: ordinary consonants and the vowel letters
# a (ا آ ع), w (و), y (ی ے); upper case: letters that must stay distinct (ٹ T, ڈ D, ڑ R,
# ش S, غ G) and N, the nasal ں, a vowel feature that Whisper often drops.
_URDU_SOUNDS: Final = str.maketrans(
    {
        **dict.fromkeys("اآعأإ", "a"),
        "ب": "b",
        "پ": "p",
        **dict.fromkeys("تطۃ", "t"),
        "ٹ": "T",
        **dict.fromkeys("ثسص", "s"),
        "ج": "j",
        "چ": "c",
        **dict.fromkeys("حہۂھ", "h"),
        "خ": "x",
        "غ": "G",
        "د": "d",
        "ڈ": "D",
        **dict.fromkeys("ذزضظژ", "z"),
        "ر": "r",
        "ڑ": "R",
        "ش": "S",
        "ف": "f",
        **dict.fromkeys("قک", "k"),
        "گ": "g",
        "ل": "l",
        "م": "m",
        "ن": "n",
        "ں": "N",
        **dict.fromkeys("وؤ", "w"),
        **dict.fromkeys("یے", "y"),
        # Hamza seats: چائے / چاۓ / چاے are one word to a listener.
        "ئ": None,
        "ء": None,
        **{chr(0x06F0 + d): str(d) for d in range(10)},
    }
)
# Skeleton: vowel classes dropped; voicing pairs and near-homophones merged.
_SKELETON: Final = str.maketrans("pdDgjGR", "btTkcxr", "awyN")

# Devanagari -> the same sound classes, spelled the way Urdu writes the word: short
# vowels (ि ु and inherent a) unwritten, long vowels as ا/و/ی, aspirates as letter + h.
_DEVANAGARI_SOUNDS: Final = str.maketrans(
    {
        "क": "k",
        "ख": "kh",
        "ग": "g",
        "घ": "gh",
        "च": "c",
        "छ": "ch",
        "ज": "j",
        "झ": "jh",
        "ट": "T",
        "ठ": "Th",
        "ड": "D",
        "ढ": "Dh",
        "ण": "n",
        "त": "t",
        "थ": "th",
        "द": "d",
        "ध": "dh",
        "न": "n",
        "प": "p",
        "फ": "ph",
        "ब": "b",
        "भ": "bh",
        "म": "m",
        "य": "y",
        "र": "r",
        "ल": "l",
        "व": "w",
        "श": "S",
        "ष": "S",
        "स": "s",
        "ह": "h",
        "ा": "a",
        "ी": "y",
        "े": "y",
        "ै": "y",
        "ू": "w",
        "ो": "w",
        "ौ": "w",
        "ं": "N",
        "ँ": "N",
        "ि": None,
        "ु": None,
        "्": None,
        "़": None,
        "ः": None,
        "ॉ": "w",
        **{chr(0x0966 + d): str(d) for d in range(10)},
    }
)
# Nukta letters (decomposed by NFC) whose sound differs from the base letter.
_DEVANAGARI_NUKTA: Final = (
    ("ड़", "R"),
    ("ढ़", "Rh"),
    ("ज़", "z"),
    ("फ़", "f"),
    ("ख़", "x"),
    ("ग़", "G"),
)
# Independent vowels: alif at the start of a word (as Urdu writes it), bare inside.
_DEVANAGARI_VOWELS: Final = {
    "अ": ("a", ""),
    "आ": ("a", "a"),
    "इ": ("a", "y"),
    "ई": ("ay", "y"),
    "उ": ("a", "w"),
    "ऊ": ("aw", "w"),
    "ए": ("ay", "y"),
    "ऐ": ("ay", "y"),
    "ओ": ("aw", "w"),
    "औ": ("aw", "w"),
}

_ROMAN_VOWELS: Final = frozenset("aeiouy")
_ROMAN_SKELETON: Final = str.maketrans("", "", "aeiouy")
_ROMAN_FOLD: Final = str.maketrans("qw", "kv")
_ROMAN_FINAL_E_RE: Final = re.compile(r"(?<=\w)(?:ai|ay|ae)$")

# Word characters plus the Devanagari vowel signs and virama, which are not ``\w``.
_WORD_RE: Final = re.compile("[\\w\u0900-\u0963\u0966-\u097f]+")
_RUN_RE: Final = re.compile(r"(.)\1+")
_ENGLISH_JUNK_RE: Final = re.compile(r"[^a-z0-9 ]+")
_SPACES_RE: Final = re.compile(r"\s+")

_MISSING: Final = (1, 0, 0.0)
_EXTRA: Final = (0, 1, 0.0)


@dataclass(frozen=True)
class MemoryMatch:
    """A phrase-bank entry recognised in a transcript, with its score (0-100)."""

    phrase: Phrase
    score: float
    matched_on: MatchedOn = "urdu"


class _Word(NamedTuple):
    full: str
    skeleton: str


@dataclass(frozen=True)
class _Keyed:
    """A sentence as sound-keyed words, ready for alignment.

    ``pairs`` holds each word joined with the next, for split or joined words;
    ``joined`` is the whole key without spaces, for the shortlist and exact hits.
    """

    words: tuple[_Word, ...]
    pairs: tuple[_Word, ...]
    joined: str


def _urdu_word(word: str) -> _Word:
    return _sound_word(word.translate(_URDU_SOUNDS))


def _devanagari_word(word: str) -> _Word:
    for letter, sound in _DEVANAGARI_NUKTA:
        word = word.replace(letter, sound)
    spelled = []
    for position, char in enumerate(word):
        vowel = _DEVANAGARI_VOWELS.get(char)
        spelled.append(char if vowel is None else vowel[0 if position == 0 else 1])
    return _sound_word("".join(spelled).translate(_DEVANAGARI_SOUNDS))


def _sound_word(full: str) -> _Word:
    # Word-final ہ after a consonant is the vowel a (کمرہ/کمرا, انچہ/اونچا).
    if len(full) > 1 and full[-1] == "h":
        full = full[:-1] + "a"
    # Initial و/ی are the consonants w/y; elsewhere they are vowels, left out.
    if full[:1] in ("w", "y"):
        skeleton = full[0] + full[1:].translate(_SKELETON)
    else:
        skeleton = full.translate(_SKELETON)
    # No run-collapsing: Urdu script doubles a consonant only when it is said twice (چچا).
    return _Word(full.replace("N", "n"), skeleton)


def _roman_word(word: str) -> _Word:
    # Roman Urdu spelling is loose: "paani"/"pani", "theek"/"thik", "qalam"/"kalam",
    # "hai"/"he"/"hay", "yeh"/"ye".
    full = _RUN_RE.sub(r"\1", word.replace("ee", "i").replace("oo", "u").translate(_ROMAN_FOLD))
    full = _ROMAN_FINAL_E_RE.sub("e", full)
    if len(full) > 2 and full[-1] == "h" and full[-2] in _ROMAN_VOWELS:
        full = full[:-1]
    skeleton = full[:1] + full[1:].translate(_ROMAN_SKELETON)
    # A final n after a vowel is usually the nasal vowel (hain, mein, dayen): like ں in
    # Urdu script it is left out of the skeleton, so "dayen"/"bayen" differ in full.
    if len(full) > 2 and full[-1] == "n" and full[-2] in _ROMAN_VOWELS:
        skeleton = skeleton[:-1]
    return _Word(full, _RUN_RE.sub(r"\1", skeleton.lstrip("aeiou")))


def _keyed(raw_words: list[str], key: Callable[[str], _Word]) -> _Keyed:
    # Pairs are keyed from the written words joined, exactly as a recogniser's joined word
    # would be (word-final ہ of the first word is then medial, for instance).
    keyed = [(raw, key(raw)) for raw in raw_words]
    kept = [raw for raw, word in keyed if word.full]
    words = tuple(word for _, word in keyed if word.full)
    pairs = tuple(key(a + b) for a, b in pairwise(kept))
    return _Keyed(words, pairs, "".join(w.full for w in words))


def _urdu_keys(text: str) -> _Keyed:
    """Sound-keyed words of an Urdu-script sentence."""
    return _keyed(_WORD_RE.findall(normalize_urdu(text)), _urdu_word)


def _devanagari_keys(text: str) -> _Keyed:
    """Sound-keyed words of Urdu/Hindi written in Devanagari, comparable with Urdu keys."""
    return _keyed(_WORD_RE.findall(normalize_urdu(text)), _devanagari_word)


def _roman_keys(text: str) -> _Keyed:
    """Sound-keyed words of a Roman Urdu sentence (case and punctuation ignored)."""
    return _keyed(_WORD_RE.findall(text.lower()), _roman_word)


def english_key(text: str) -> str:
    """English sentence for exact lookup: lower case, no punctuation, single spaces."""
    text = text.lower().replace("\u2019", "'").replace("'", "")
    return _SPACES_RE.sub(" ", _ENGLISH_JUNK_RE.sub(" ", text)).strip()


def _similarity_rows(entries: list[_Word], heard: list[_Word]) -> list[list[float]]:
    """Word similarity (0-1) of every entry/heard pair, in two rapidfuzz calls.

    The mean of the Levenshtein similarities of the full keys and of the skeletons;
    the full keys alone when neither word has a consonant.
    """
    full = process.cdist([w.full for w in entries], [w.full for w in heard], scorer=_lev)
    skeleton = process.cdist(
        [w.skeleton for w in entries], [w.skeleton for w in heard], scorer=_lev
    )
    vowels_only = np.logical_and.outer(
        np.array([not w.skeleton for w in entries]), np.array([not w.skeleton for w in heard])
    )
    rows: list[list[float]] = np.where(vowels_only, full, 0.5 * (full + skeleton)).tolist()
    return rows


def _alignment_score(entry: _Keyed, heard: _Keyed) -> float:
    """Similarity (0-100) of two keyed sentences by word alignment; see the module docs."""
    if not entry.words or not heard.words:
        return 0.0
    rows = _similarity_rows([*entry.words, *entry.pairs], [*heard.words, *heard.pairs])
    return _align(entry, heard, rows)


def _align(entry: _Keyed, heard: _Keyed, sims: list[list[float]]) -> float:
    """Best word alignment score given ``sims`` (rows: entry words then entry pairs;
    columns: heard words then heard pairs, as ``_similarity_rows`` builds them)."""
    n, m = len(entry.words), len(heard.words)
    e_len = [len(w.full) for w in entry.words]
    h_len = [len(w.full) for w in heard.words]
    # cost[i][j]: least cost of aligning entry words [:i] with heard words [:j]. Aligned
    # words cost their letters times (1 - similarity); a left-over word all its letters.
    cost = [[0.0] * (m + 1) for _ in range(n + 1)]
    back: list[list[tuple[int, int, float]]] = [[_EXTRA] * (m + 1) for _ in range(n + 1)]
    for j in range(1, m + 1):
        cost[0][j] = cost[0][j - 1] + h_len[j - 1]
    for i in range(1, n + 1):
        cost[i][0] = cost[i - 1][0] + e_len[i - 1]
        back[i][0] = _MISSING
    for i in range(1, n + 1):
        row, up, el, sim_row = cost[i], cost[i - 1], e_len[i - 1], sims[i - 1]
        two_up = cost[i - 2] if i >= 2 else None
        pair_row = sims[n + i - 2] if i >= 2 else None
        el2 = el + e_len[i - 2] if i >= 2 else 0
        brow = back[i]
        for j in range(1, m + 1):
            hl = h_len[j - 1]
            best, step = up[j] + el, _MISSING
            value = row[j - 1] + hl
            if value < best:
                best, step = value, _EXTRA
            sim = sim_row[j - 1]
            value = up[j - 1] + (el + hl) * (1.0 - sim)
            if value < best:
                best, step = value, (1, 1, sim)
            if two_up is not None and pair_row is not None:  # two entry words heard as one
                sim = pair_row[j - 1]
                value = two_up[j - 1] + (el2 + hl) * (1.0 - sim)
                if value < best:
                    best, step = value, (2, 1, sim)
            if j >= 2:  # one entry word heard as two
                sim = sim_row[m + j - 2]
                value = up[j - 2] + (el + hl + h_len[j - 2]) * (1.0 - sim)
                if value < best:
                    best, step = value, (1, 2, sim)
            row[j], brow[j] = best, step
    mean = 1.0 - cost[n][m] / (sum(e_len) + sum(h_len))
    worst = 1.0
    i, j = n, m
    while i or j:
        di, dj, sim = back[i][j]
        # A lone letter ("و") is too little evidence either way.
        if sum(e_len[i - di : i]) + sum(h_len[j - dj : j]) >= 2:
            worst = min(worst, sim)
        i, j = i - di, j - dj
    return 100.0 * max(0.0, min(mean, worst + WORST_WORD_SLACK))


class TranslationMemory:
    """Urdu-to-English from the phrase bank, tolerant of recognition errors.

    Implements the ``Translator`` and ``ScriptNormalizer`` protocols. A lookup is pure
    CPU work of a fraction of a millisecond, so the async methods run it inline.
    """

    name = "memory"

    def __init__(self, bank: PhraseBank, threshold: float = DEFAULT_THRESHOLD) -> None:
        if not 0.0 <= threshold <= 100.0:
            raise ValueError(f"threshold must be within 0-100, got {threshold}")
        self.threshold = float(threshold)
        self._phrases = tuple(bank)
        urdu = tuple(_urdu_keys(p.urdu) for p in self._phrases)
        roman = tuple(_roman_keys(p.roman_urdu) for p in self._phrases)
        # Devanagari input is keyed into the Urdu sound classes, so it shares their keys.
        self._keys: dict[MatchedOn, tuple[_Keyed, ...]] = {
            "urdu": urdu,
            "roman": roman,
            "devanagari": urdu,
        }
        self._joined = {name: [k.joined for k in keys] for name, keys in self._keys.items()}
        self._exact = {
            name: {key: index for index, key in enumerate(joined)}
            for name, joined in self._joined.items()
        }
        self._by_english = {english_key(p.english): p for p in self._phrases}

    def __len__(self) -> int:
        return len(self._phrases)

    def rank(self, text: str, limit: int = 3) -> list[MemoryMatch]:
        """The best-scoring entries for ``text``, best first, whatever their score.

        Only entries whose whole key is at least ``PREFILTER_FLOOR`` similar are scored:
        nothing below that comes near a match.
        """
        return self._rank(*_keys_for(text), limit)

    def match(self, text: str) -> MemoryMatch | None:
        """The phrase-bank entry ``text`` is a (possibly misheard) copy of, if any."""
        heard, matched_on = _keys_for(text)
        exact = self._exact[matched_on].get(heard.joined)
        if exact is not None and heard.words:
            return MemoryMatch(self._phrases[exact], 100.0, matched_on)
        best = self._rank(heard, matched_on, 1)
        if best and best[0].score >= self.threshold:
            return best[0]
        return None

    def _rank(self, heard: _Keyed, matched_on: MatchedOn, limit: int) -> list[MemoryMatch]:
        if not heard.words:
            return []
        shortlist = process.extract(
            heard.joined,
            self._joined[matched_on],
            scorer=fuzz.ratio,
            limit=max(limit, CANDIDATES),
            score_cutoff=PREFILTER_FLOOR,
        )
        if not shortlist:
            return []
        keys = self._keys[matched_on]
        entries = [keys[index] for _, _, index in shortlist]
        # One similarity matrix for all candidates: rapidfuzz's per-call overhead dominates.
        rows = _similarity_rows(
            [w for entry in entries for w in (*entry.words, *entry.pairs)],
            [*heard.words, *heard.pairs],
        )
        scored: list[MemoryMatch] = []
        start = 0
        for entry, (_, _, index) in zip(entries, shortlist, strict=True):
            stop = start + len(entry.words) + len(entry.pairs)
            score = _align(entry, heard, rows[start:stop])
            scored.append(MemoryMatch(self._phrases[index], score, matched_on))
            start = stop
        scored.sort(key=lambda match: match.score, reverse=True)
        return scored[:limit]

    def lookup_english(self, text: str) -> Phrase | None:
        """The entry whose English is ``text`` (case and punctuation ignored)."""
        return self._by_english.get(english_key(text))

    async def translate(self, request: TranslationRequest) -> Translation | None:
        """English for a phrase-bank sentence; ``None`` for anything else."""
        if request.source != "ur" or request.target != "en":
            return None
        hit = self.match(request.text)
        if hit is None:
            return None
        return Translation(
            text=hit.phrase.english,
            provider=self.name,
            score=hit.score,
            source_text=hit.phrase.urdu,
            entry_id=hit.phrase.id,
        )

    async def to_urdu_script(self, text: str) -> str:
        """The phrase-bank spelling on a hit, otherwise the transcript cleaned up."""
        hit = self.match(text)
        if hit is not None:
            return hit.phrase.urdu
        return to_display(normalize_urdu(text))


def _keys_for(text: str) -> tuple[_Keyed, MatchedOn]:
    script = script_of(text)
    if script == "latin":
        return _roman_keys(text), "roman"
    if script == "devanagari":
        return _devanagari_keys(text), "devanagari"
    return _urdu_keys(text), "urdu"
