"""Sound keys of Urdu sentences in Urdu script, Roman Urdu and Devanagari."""

from __future__ import annotations

import pytest

from ustad.speech.urdu_sound_keys import (
    devanagari_keys,
    keys_for,
    roman_keys,
    urdu_keys,
)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("سال", "صال"),  # س/ص one sound
        ("ذرا", "زرا"),  # ذ/ز one sound
        ("کمرہ", "کمرا"),  # word-final ہ is the vowel a
        ("چائے", "چاۓ"),  # hamza seats
    ],
)
def test_urdu_spellings_of_one_sound_share_keys(a: str, b: str) -> None:
    assert urdu_keys(a) == urdu_keys(b)


@pytest.mark.parametrize(("a", "b"), [("paani", "pani"), ("theek", "thik"), ("qalam", "kalam")])
def test_loose_roman_spellings_share_keys(a: str, b: str) -> None:
    assert roman_keys(a) == roman_keys(b)


def test_devanagari_is_keyed_into_the_urdu_sound_classes() -> None:
    assert devanagari_keys("पानी").words == urdu_keys("پانی").words


def test_a_different_word_keeps_other_consonants() -> None:
    (water,), (tea,) = urdu_keys("پانی").words, urdu_keys("چائے").words
    assert water.skeleton != tea.skeleton


def test_pairs_join_neighbours_and_joined_is_the_whole_key() -> None:
    keyed = urdu_keys("مجھے پانی چاہیے")
    assert len(keyed.words) == 3
    assert len(keyed.pairs) == 2
    assert keyed.pairs[0] == urdu_keys("مجھےپانی").words[0]
    assert keyed.joined == "".join(word.full for word in keyed.words)


def test_keys_follow_the_script() -> None:
    assert keys_for("mujhe pani chahiye")[1] == "roman"
    assert keys_for("मुझे पानी")[1] == "devanagari"
    assert keys_for("مجھے پانی")[1] == "urdu"


def test_text_without_words_has_no_keys() -> None:
    for text in ("", "  ", "؟!"):
        keyed, _ = keys_for(text)
        assert keyed.words == keyed.pairs == ()
        assert keyed.joined == ""
