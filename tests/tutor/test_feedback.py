"""Feedback wording in English and Urdu."""

from __future__ import annotations

import itertools
import re

import pytest

from ustad.assess.types import Assessment, Scores, WordResult, WordStatus
from ustad.speech.types import SpokenText
from ustad.tutor.feedback import MAX_WORDS_NAMED, feedback

C, M, OM, INS = (
    WordStatus.CORRECT,
    WordStatus.MISPRONOUNCED,
    WordStatus.OMITTED,
    WordStatus.INSERTED,
)
LATIN = re.compile(r"[A-Za-z]")


def attempt(
    target: str,
    statuses: list[WordStatus],
    *,
    overall: float,
    passed: bool,
    accuracy: float | None = None,
    fluency: float = 100.0,
    rate: float | None = 120.0,
    pause: float | None = 0.1,
) -> Assessment:
    words = target.split()
    results = tuple(
        WordResult(w, s, heard=None if s is OM else w.lower(), confidence=None if s is OM else 0.9)
        for w, s in zip(words, statuses, strict=True)
    )
    return Assessment(
        target=target,
        transcript=" ".join(w.lower() for w, s in zip(words, statuses, strict=True) if s is not OM),
        scores=Scores(overall, overall if accuracy is None else accuracy, 100.0, fluency),
        passed=passed,
        words=results,
        speech_rate_wpm=rate,
        longest_pause_seconds=pause,
    )


def check_urdu_segments(reply: SpokenText) -> None:
    """Text is the segments joined; Latin script only in English segments."""
    assert reply.text == "".join(s.text for s in reply.segments)
    for segment in reply.segments:
        if segment.language == "ur":
            assert not LATIN.search(segment.text), segment.text
        else:
            assert segment.language == "en"
    languages = [s.language for s in reply.segments]
    assert all(a != b for a, b in itertools.pairwise(languages))  # merged runs


def test_clean_pass() -> None:
    result = attempt("Can I have water", [C, C, C, C], overall=98, passed=True)
    english = feedback(result, "english")
    assert english.text == "Well done! You said it clearly."
    assert english.segments[0].language == "en"
    urdu = feedback(result, "urdu")
    check_urdu_segments(urdu)
    assert urdu.text.startswith("شاباش")
    assert [s.language for s in urdu.segments] == ["ur"]


def test_pass_with_a_word_to_watch() -> None:
    result = attempt("Can I have water", [C, C, C, M], overall=90, passed=True)
    assert feedback(result, "english").text == "Well done! Just take care with 'water'."
    urdu = feedback(result, "urdu")
    check_urdu_segments(urdu)
    assert urdu.text.startswith("شاباش")
    assert ("en", "'water'") in [(s.language, s.text) for s in urdu.segments]
    assert "اس لفظ" in urdu.text  # singular


def test_nearly_names_unclear_and_missing_words_differently() -> None:
    result = attempt("Can I have some water please", [C, C, C, C, M, OM], overall=70, passed=False)
    english = feedback(result, "english").text
    assert english.startswith("Good try.")
    assert "Let's work on: 'water'." in english
    assert "Don't forget this word: 'please'." in english
    assert english.endswith("Listen and try again.")

    urdu = feedback(result, "urdu")
    check_urdu_segments(urdu)
    assert urdu.text.startswith("اچھی کوشش")
    en = [s.text for s in urdu.segments if s.language == "en"]
    assert en == ["'water'", "'please'"]
    assert "صاف" in urdu.text  # "say it more clearly" for the mispronounced word
    assert "بھول گئے" in urdu.text  # "you forgot" for the omitted one


def test_far_off_has_its_own_wording() -> None:
    result = attempt("Can I have some water please", [M, M, OM, C, C, C], overall=35, passed=False)
    english = feedback(result, "english").text
    nearly = feedback(attempt("Can I have some water please", [M, M, OM, C, C, C], overall=70,
                              passed=False), "english").text  # fmt: skip
    assert english != nearly
    assert english.startswith("Let's try that again together.")
    assert "slowly" in english
    urdu = feedback(result, "urdu")
    check_urdu_segments(urdu)
    assert urdu.text.startswith("کوئی بات نہیں")


def test_at_most_three_words_named_in_sentence_order() -> None:
    target = "one two three four five six"
    result = attempt(target, [M, OM, M, M, M, OM], overall=30, passed=False)
    english = feedback(result, "english").text
    named = re.findall(r"'([a-z]+)'", english)
    assert len(named) == MAX_WORDS_NAMED
    assert set(named) == {"one", "two", "three"}
    urdu = feedback(result, "urdu")
    assert len(re.findall(r"'([a-z]+)'", urdu.text)) == MAX_WORDS_NAMED


def test_inserted_words_are_not_named() -> None:
    result = attempt("I like tea", [C, C, C], overall=85, passed=True)
    extra = WordResult("really", INS, heard="really", confidence=0.9)
    result = Assessment(
        result.target, result.transcript, result.scores, True, (*result.words, extra)
    )
    assert "really" not in feedback(result, "english").text


def test_extra_words_alone_are_mentioned() -> None:
    result = attempt("I like tea", [C, C, C], overall=70, passed=False)
    extras = tuple(WordResult(w, INS, heard=w, confidence=0.9) for w in ("very", "much", "yes"))
    result = Assessment(
        result.target, result.transcript, result.scores, False, (*result.words, *extras)
    )
    assert "without extra words" in feedback(result, "english").text
    urdu = feedback(result, "urdu")
    check_urdu_segments(urdu)
    assert "اضافی الفاظ" in urdu.text


def test_all_caps_target_words_are_shown_in_lower_case() -> None:
    result = attempt("I LIKE THE WATER", [M, C, C, M], overall=65, passed=False)
    english = feedback(result, "english").text
    assert "'I', 'water'" in english


@pytest.mark.parametrize(
    ("rate", "pause", "english_hint", "urdu_hint"),
    [
        (260.0, 0.1, "more slowly", "آہستہ"),
        (100.0, 2.5, "without long stops", "رکے بغیر"),
        (40.0, 0.2, "faster", "تیز"),
    ],
)
def test_pace_is_mentioned_when_fluency_is_the_problem(
    rate: float, pause: float, english_hint: str, urdu_hint: str
) -> None:
    result = attempt(
        "we are not too late",
        [C, C, C, C, C],
        overall=78,
        passed=False,
        accuracy=95,
        fluency=50,
        rate=rate,
        pause=pause,
    )
    assert english_hint in feedback(result, "english").text
    urdu = feedback(result, "urdu")
    check_urdu_segments(urdu)
    assert urdu_hint in urdu.text


def test_pace_not_mentioned_when_words_are_the_problem() -> None:
    result = attempt(
        "we are not too late", [M, M, M, C, C], overall=50, passed=False, accuracy=40,
        fluency=50, rate=260.0,
    )  # fmt: skip
    assert "slowly" not in feedback(result, "english").text.replace("sentence slowly", "")


def test_nothing_heard() -> None:
    result = attempt("Good morning", [OM, OM], overall=0, passed=False, rate=None, pause=None)
    assert "couldn't hear" in feedback(result, "english").text
    urdu = feedback(result, "urdu")
    check_urdu_segments(urdu)
    assert "سنائی نہیں" in urdu.text


def test_unknown_mode() -> None:
    result = attempt("Good morning", [C, C], overall=100, passed=True)
    with pytest.raises(ValueError, match="mode"):
        feedback(result, "french")  # type: ignore[arg-type]
