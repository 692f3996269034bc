"""Word alignment of what was heard against the target."""

from __future__ import annotations

import pytest

from ustad.assess.align import Alignment, Op, align
from ustad.assess.normalize import normalize_heard, normalize_target
from ustad.assess.word_match import MatchKind


def _align(target: str, heard: str) -> Alignment:
    tokens = [t.text for t in normalize_target(target).tokens]
    return align(tokens, normalize_heard(heard.split()))


def _ops(alignment: Alignment) -> list[str]:
    return [step.op.value for step in alignment.steps]


def test_exact_attempt_is_all_matches() -> None:
    alignment = _align("Where did that come from", "Where did that come from?")
    assert _ops(alignment) == ["match"] * 5
    assert alignment.cost == 0.0


def test_omission_insertion_and_substitution_are_placed() -> None:
    alignment = _align("I like green tea", "I really like red tea")
    assert _ops(alignment) == ["match", "insert", "match", "substitute", "match"]
    substitution = alignment.steps[3]
    assert substitution.kind is MatchKind.DIFFERENT
    assert alignment.heard[substitution.heard[0]].text == "red"

    alignment = _align("I like green tea", "I like tea")
    assert _ops(alignment) == ["match", "match", "omit", "match"]


def test_similar_word_is_aligned_to_its_target() -> None:
    # "walk" sits where "walks" is expected even though the list is shifted.
    alignment = _align("then mike walks to coffee", "then walk to coffee")
    pairs = {
        step.target[0]: alignment.heard[step.heard[0]].text
        for step in alignment.steps
        if step.target and step.heard
    }
    assert pairs[2] == "walk"
    assert alignment.steps[1].op is Op.OMIT


@pytest.mark.parametrize(
    ("target", "heard"),
    [
        ("TWO SIX FOUR EIGHT", "2648"),
        ("TWO SIX FOUR EIGHT", "2,648."),
        ("two thousand six hundred forty eight", "2648"),
        ("two thousand six hundred and forty eight", "2648"),
        ("twenty six forty eight", "2648"),
        ("born in nineteen ninety", "born in 1990"),
        ("the third day", "the 3rd day"),
        ("it costs five dollars", "it costs $5"),
        ("meet at ten thirty", "meet at 10:30"),
        ("FIVE TWO FOUR SEVEN", "5, 2, 4, 7."),
        ("ONE ONE ZERO EIGHT", "1-1-0-8"),
        ("ZERO FIVE EIGHT THREE", "0583"),
        ("need to invest", "need 2 invest"),
    ],
)
def test_numbers_take_the_reading_that_fits(target: str, heard: str) -> None:
    alignment = _align(target, heard)
    assert set(_ops(alignment)) == {"match"}, alignment.steps


def test_number_reading_keeps_source_word() -> None:
    alignment = _align("TWO SIX FOUR EIGHT", "2648")
    assert [t.text for t in alignment.heard] == ["two", "six", "four", "eight"]
    assert {t.source for t in alignment.heard} == {0}
    assert all(t.from_number for t in alignment.heard)


def test_wrong_digit_is_a_substitution_inside_the_number() -> None:
    alignment = _align("TWO SIX FOUR EIGHT", "2649")
    assert _ops(alignment) == ["match", "match", "match", "substitute"]


@pytest.mark.parametrize(
    ("target", "heard"),
    [
        ("every one at same moment", "everyone at same moment"),
        ("yes that maybe", "yes that may be"),
    ],
)
def test_compounds_join_across_a_word_boundary(target: str, heard: str) -> None:
    alignment = _align(target, heard)
    assert set(_ops(alignment)) == {"match"}


def test_one_word_heard_as_two_is_one_near_miss() -> None:
    assert set(_ops(_align("the tennis", "the ten is"))) == {"match"}
    alignment = _align("forward to the tennis tomorrow", "forward to the 10 years tomorrow")
    step = next(s for s in alignment.steps if s.op is Op.SUBSTITUTE)
    assert step.kind is MatchKind.NEAR
    assert len(step.heard) == 2
    assert Op.INSERT not in {s.op for s in alignment.steps}


def test_nothing_heard_or_nothing_expected() -> None:
    assert _ops(_align("a cup of tea", "")) == ["omit"] * 4
    assert _ops(align([], normalize_heard(["hello", "there"]))) == ["insert", "insert"]
    assert align([], ()).steps == ()


def test_a_word_with_s_is_the_word_and_is() -> None:
    # "Dinner is ready" heard as "Dinner's ready." (normalised "dinners").
    result = align(["dinner", "is", "ready"], normalize_heard(["Dinner's", "ready."]))
    assert [step.op for step in result.steps] == [Op.MATCH, Op.MATCH]
