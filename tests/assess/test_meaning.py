"""Attempts that say the opposite of the target fail, whatever their word score."""

from __future__ import annotations

import pytest

from tests.assess.test_score import heard
from ustad.assess.score import assess
from ustad.speech.types import WordSupport

FLIPPED = [
    ("I am happy.", "I am not happy."),
    ("I like this food.", "I don't like this food."),
    ("She is not coming today.", "She is coming today."),
    ("I can't swim well.", "I can swim well."),
    ("Yes, I will come.", "No, I will come."),
    ("Turn on the light.", "Turn off the light."),
    ("Please sit down.", "Please sit up."),
    ("He never eats meat.", "He always eats meat."),
]


@pytest.mark.parametrize(("target", "said"), FLIPPED)
def test_an_attempt_that_flips_the_meaning_fails(target: str, said: str) -> None:
    assert not assess(target, heard(*said.split())).passed


@pytest.mark.parametrize(
    ("target", "said"),
    [
        ("I am not happy.", "I'm not happy."),
        ("I can't swim well.", "I cannot swim well."),
        ("No, thank you.", "No, thank you."),
        ("Turn on the light.", "Turn on the light."),
    ],
)
def test_the_same_meaning_in_other_words_passes(target: str, said: str) -> None:
    assert assess(target, heard(*said.split())).passed


def test_support_for_a_dropped_negation_keeps_it() -> None:
    # The audio's support for the target (a second opinion) can say the "not" was said.
    target = "She is not coming today."
    support = tuple(WordSupport(word, 0.9) for word in ("She", "is", "not", "coming", "today."))
    result = assess(target, heard("She", "is", "coming", "today."), support=support)
    assert result.passed


def test_an_unsure_added_negation_is_not_enough_to_fail() -> None:
    # tiny.en wrote "isn't" for a robotic "is": only a confident "not" flips the meaning.
    target = "Where is the washroom?"
    assert assess(target, heard("Where", ("isn't", 0.3), "the", "washroom?")).passed
    assert not assess(target, heard("Where", ("isn't", 0.9), "the", "washroom?")).passed
