"""How alike two sound-keyed Urdu sentences are, by aligning their words.

Whisper's Urdu garbles letters inside words and moves word boundaries, while a sentence
one word different is another sentence; so the score works on words, as keyed by
:mod:`ustad.speech.urdu_sound_keys`:

1. The two sentences' words are aligned by dynamic programming, allowing one word to
   match two (split or joined words) and words to be left over. Word similarity is the
   mean Levenshtein similarity of the two keys.
2. The score is the length-weighted mean similarity of the aligned words, capped at the
   weakest aligned word's similarity plus ``WORST_WORD_SLACK``: a word with no
   plausible counterpart (a swapped noun, an added "نہیں") sinks the whole match.
"""

from __future__ import annotations

from typing import Final

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from ustad.speech.urdu_sound_keys import KeyedSentence, SoundWord

WORST_WORD_SLACK: Final = 0.25
"""The score never exceeds the weakest aligned word's similarity by more than this.

Measured on the bank: a misheard word (طبقے heard as تپے) scores about 0.58, a
swapped word (نام/نمبر, پانی/چائے) 0.25-0.4, so 0.25 keeps the first above the translation
memory's default threshold and the second well below it."""

_lev: Final = Levenshtein.normalized_similarity

_MISSING: Final = (1, 0, 0.0)
_EXTRA: Final = (0, 1, 0.0)


def similarity_rows(entries: list[SoundWord], heard: list[SoundWord]) -> list[list[float]]:
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


def alignment_score(entry: KeyedSentence, heard: KeyedSentence) -> float:
    """Similarity (0-100) of two keyed sentences by word alignment; see the module docs."""
    if not entry.words or not heard.words:
        return 0.0
    rows = similarity_rows([*entry.words, *entry.pairs], [*heard.words, *heard.pairs])
    return best_alignment_score(entry, heard, rows)


def best_alignment_score(
    entry: KeyedSentence, heard: KeyedSentence, sims: list[list[float]]
) -> float:
    """Score (0-100) of the best word alignment of ``entry`` with ``heard``.

    ``sims`` rows are the entry's words then its pairs; its columns the heard words then
    their pairs, as :func:`similarity_rows` builds them. With no words on either side
    the score is undefined (``ZeroDivisionError``); :func:`alignment_score` checks.
    """
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
