"""Word-alignment score of two sound-keyed Urdu sentences."""

from __future__ import annotations

import pytest

from ustad.speech.urdu_sound_keys import urdu_keys
from ustad.speech.urdu_word_alignment import (
    alignment_score,
    best_alignment_score,
    similarity_rows,
)

WANT_WATER = "مجھے پانی چاہیے"


def score(entry: str, heard: str) -> float:
    return alignment_score(urdu_keys(entry), urdu_keys(heard))


def test_same_sentence_and_moved_word_boundaries_score_100() -> None:
    assert score(WANT_WATER, WANT_WATER) == 100.0
    assert score(WANT_WATER, "مجھےپانی چاہیے") == 100.0  # two words heard as one
    assert score(WANT_WATER, "مجھے پا نی چاہیے") == 100.0  # one word heard as two


def test_a_misheard_copy_beats_a_sentence_one_word_different() -> None:
    # What Whisper base heard for a Common Voice clip, against the sentence read.
    misheard = score("جہاں دنیا کا سب سے اونچا", "جہا دنیا کا سب سے انچہ")
    swapped = score(WANT_WATER, "مجھے چائے چاہیے")
    added = score(WANT_WATER, "مجھے پانی نہیں چاہیے")
    assert misheard > 90.0
    assert swapped < 60.0
    assert added < 60.0


def test_an_empty_side_scores_0() -> None:
    assert score("", WANT_WATER) == score(WANT_WATER, "") == 0.0


def test_similarity_rows_are_symmetric_and_1_on_the_diagonal() -> None:
    words = list(urdu_keys(WANT_WATER).words)
    rows = similarity_rows(words, words)
    assert len(rows) == len(words)
    for i, row in enumerate(rows):
        assert row[i] == pytest.approx(1.0)
        assert all(0.0 <= value <= 1.0 for value in row)
        assert all(row[j] == pytest.approx(rows[j][i]) for j in range(len(words)))


def test_best_alignment_score_on_a_prebuilt_matrix_is_the_score() -> None:
    entry, heard = urdu_keys(WANT_WATER), urdu_keys("مجھے پانی چاہئے")
    rows = similarity_rows([*entry.words, *entry.pairs], [*heard.words, *heard.pairs])
    assert best_alignment_score(entry, heard, rows) == alignment_score(entry, heard)
