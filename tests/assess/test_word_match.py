"""Whether a heard word is the target word, a near-miss of it, or another word."""

from __future__ import annotations

import pytest

from ustad.assess.word_match import (
    MatchKind,
    compare_words,
    is_content_word,
    similarity,
    target_names,
)


@pytest.mark.parametrize(
    "group",
    ["to two too", "for four", "there their", "tie tai", "mike mic", "know no", "right write",
     "new knew", "hear here", "see sea", "meet meat", "by buy bye", "wait weight", "night knight",
     "which witch", "way weigh", "made maid", "one won", "eight ate", "be bee", "our hour",
     "week weak", "road rode", "peace piece", "cent sent scent", "phone fone"],
)  # fmt: skip
def test_homophones_are_the_same_word(group: str) -> None:
    first, *others = group.split()
    for other in others:
        assert compare_words(first, other) is MatchKind.SAME, (first, other)
        assert compare_words(other, first) is MatchKind.SAME, (other, first)


@pytest.mark.parametrize(
    "pair",
    ["bat bit", "cat cut", "ship sheep", "live leave", "full fool", "sit seat", "man men",
     "bed bad", "three tree", "think sink", "light right", "walks works", "pass purse"],
)  # fmt: skip
def test_minimal_pairs_are_near_misses(pair: str) -> None:
    a, b = pair.split()
    assert compare_words(a, b) is MatchKind.NEAR


@pytest.mark.parametrize(
    "pair", ["water please", "mary went", "face mouse", "elephant goose", "first best", "go sit"]
)
def test_unrelated_words_are_different(pair: str) -> None:
    a, b = pair.split()
    assert compare_words(a, b) is MatchKind.DIFFERENT


def test_similarity_range() -> None:
    assert similarity("water", "water") == 1.0
    assert 0.0 <= similarity("water", "xyz") < 0.5


def test_function_words_are_not_content_words() -> None:
    assert not any(is_content_word(w) for w in ("the", "a", "is", "to", "my", "and", "i"))
    assert all(is_content_word(w) for w in ("sister", "lives", "river", "not", "no", "five"))


@pytest.mark.parametrize(
    ("target", "names"),
    [
        ("This is Ali speaking.", {"Ali"}),
        ("Ali is here. Then Sara came?", {"Sara"}),
        ('"Hello," said Ayesha.', {"Ayesha"}),
        ("I am from Pakistan, and I live in Karachi.", {"Pakistan", "Karachi"}),
        ("THEN MIKE WALKS TO COFFEE", set()),
        ("I like tea.", set()),
    ],
)
def test_names_are_capitalised_words_inside_a_sentence(target: str, names: set[str]) -> None:
    assert target_names(target) == names


def test_abbreviations_are_not_names() -> None:
    assert target_names("Please turn down the TV. What is the WiFi password?") == set()
