"""Offensive words heard for a learner's speech are never shown as what they said."""

from __future__ import annotations

import json

import pytest

from tests.assess.test_score import heard
from ustad.assess.offensive import UNCLEAR, hidden, masked_text, offensive_words
from ustad.assess.score import assess
from ustad.assess.types import WordStatus
from ustad.tutor.feedback import feedback


def test_the_word_list_is_read_from_the_installed_package() -> None:
    listed = offensive_words()
    assert len(listed) > 500
    assert {"whore", "damn", "shit"} <= listed
    assert not {"ali", "lahore", "class", "pass", "hello"} & listed


def test_hidden_words_and_masked_text() -> None:
    listed = offensive_words()
    assert hidden("Damn!", frozenset(), listed)
    assert not hidden("Damn!", frozenset({"damn"}), listed)  # the target asks for it
    assert not hidden("Lahore.", frozenset(), listed)
    assert masked_text("My sister lives in whore.", frozenset(), listed) == (
        f"My sister lives in {UNCLEAR}"
    )
    assert masked_text("in  Lahore. ", frozenset(), listed) == "in  Lahore. "


def test_an_offensive_hearing_of_a_target_word_is_not_shown() -> None:
    result = assess("Please wash this shirt.", heard("Please", "wash", "this", "shit."))
    shown = json.dumps(result.to_dict())
    assert "shit" not in shown.lower()
    assert result.transcript == f"Please wash this {UNCLEAR}"
    shirt = result.words[-1]
    assert shirt.word == "shirt"
    assert shirt.status is WordStatus.MISPRONOUNCED
    assert shirt.heard is None
    assert shirt.confidence is not None
    # The reply names the word as unclear, never the hearing.
    for mode in ("english", "urdu"):
        reply = feedback(result, mode)
        assert "'shirt'" in reply.text
        assert "shit" not in reply.text.lower()
        assert "couldn't hear" not in reply.text


def test_a_name_heard_as_an_offensive_word_is_flagged_unshown() -> None:
    result = assess(
        "My elder sister lives in Lahore.",
        heard("My", "elder", "sister", "lives", "in", "whore."),
    )
    assert "whore" not in json.dumps(result.to_dict()).lower()
    assert result.words[-1].status is WordStatus.MISPRONOUNCED
    assert result.words[-1].heard is None


def test_an_offensive_extra_word_is_not_shown() -> None:
    result = assess("I like tea", heard("I", "damn", "like", "tea"))
    inserted = [w for w in result.words if w.status is WordStatus.INSERTED]
    assert [(w.word, w.heard) for w in inserted] == [(UNCLEAR, None)]
    assert result.transcript == f"I {UNCLEAR} like tea"


def test_a_word_the_target_contains_is_shown() -> None:
    result = assess("Damn, I missed the bus.", heard("Damn,", "I", "missed", "the", "bus."))
    assert result.transcript == "Damn, I missed the bus."
    assert result.words[0].heard == "Damn"


@pytest.mark.parametrize("word", ["bitch's", "mother-fucker", "shit-faced", "fúck", "Fuck-up!"])
def test_listed_words_inside_a_word_or_with_accents_are_hidden(word: str) -> None:
    assert hidden(word, frozenset(), offensive_words())


@pytest.mark.parametrize("word", ["class", "grass", "assess", "cocktail", "Scunthorpe"])
def test_ordinary_words_containing_listed_letters_are_shown(word: str) -> None:
    assert not hidden(word, frozenset(), offensive_words())
