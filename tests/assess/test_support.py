"""The acoustic second opinion: target support turns a flagged word said right correct."""

from __future__ import annotations

from ustad.assess.score import assess
from ustad.assess.support import (
    SUPPORTED_CREDIT,
    needs_support,
    prompted_matters,
    supported_words,
    with_phone_evidence,
    written_words,
)
from ustad.assess.types import WordStatus
from ustad.speech.fakes import transcript_of
from ustad.speech.phones.types import PhoneResult, WordPhones
from ustad.speech.types import WordSupport


def support(text: str, probabilities: dict[str, float]) -> tuple[WordSupport, ...]:
    return tuple(WordSupport(w, probabilities.get(w, 0.05)) for w in text.split())


def statuses(target: str, heard: str, backing: tuple[WordSupport, ...] | None) -> dict[str, str]:
    result = assess(target, transcript_of(heard), support=backing, support_probability=0.5)
    return {w.word: w.status.value for w in result.words if w.status is not WordStatus.INSERTED}


def test_only_a_flagged_attempt_needs_support() -> None:
    assert not needs_support(assess("I want tea.", transcript_of("I want tea.")))
    assert needs_support(assess("I want tea.", transcript_of("I want rice.")))
    assert needs_support(assess("I want tea.", transcript_of("I want")))


def test_support_is_not_asked_for_an_attempt_far_from_the_target() -> None:
    near = assess("I want a cup of tea.", transcript_of("I want a cup of rice."))
    far = assess("I want a cup of tea.", transcript_of("The weather is nice."))
    assert near.scores.overall > 50.0 > far.scores.overall
    assert needs_support(near, min_overall=50.0)
    assert not needs_support(far, min_overall=50.0)
    assert needs_support(far)  # 0, the default, asks whenever a word is flagged
    clean = assess("I want tea.", transcript_of("I want tea."))
    assert not needs_support(clean, min_overall=0.0)


def test_a_supported_word_heard_as_another_counts_as_said() -> None:
    target = "I want tea."
    before = assess(target, transcript_of("I want rice."))
    backing = support(target, {"I": 0.9, "want": 0.9, "tea.": 0.8})
    after = assess(target, transcript_of("I want rice."), support=backing)
    assert not before.passed and after.passed
    word = {w.word: w for w in after.words}["tea"]
    assert word.status is WordStatus.CORRECT
    assert word.heard == "rice"  # what the recogniser wrote is still shown
    assert after.scores.accuracy < 100.0  # some doubt is kept (SUPPORTED_CREDIT)
    assert 0.0 < SUPPORTED_CREDIT < 1.0


def test_weak_support_changes_nothing() -> None:
    target = "I want tea."
    backing = support(target, {"tea.": 0.2})
    assert statuses(target, "I want rice.", backing) == statuses(target, "I want rice.", None)


def test_an_omitted_word_with_support_counts_as_said() -> None:
    target = "I want the tea."
    backing = support(target, {"the": 0.9})
    assert statuses(target, "I want tea.", None)["the"] == "omitted"
    assert statuses(target, "I want tea.", backing)["the"] == "correct"


def test_support_maps_to_written_words_split_differently() -> None:
    written = ("I", "paid", "50%", "today")
    said = (WordSupport("I", 0.9), WordSupport("paid", 0.1), WordSupport("50%,", 0.7))
    assert supported_words(written, said, 0.5) == frozenset({0, 2})
    assert supported_words(written, (), 0.5) == frozenset()
    shifted = (WordSupport("-", 1.0), *said)
    assert supported_words(written, shifted, 0.5) == frozenset({0, 2})


def test_a_word_the_prompted_decoding_wrote_needs_less_support() -> None:
    written = ("Guests", "are", "coming.")
    weak = (WordSupport("Guests", 0.1, prompted=True), WordSupport("are", 0.9, prompted=True))
    unprompted = (WordSupport("Guests", 0.1), WordSupport("are", 0.9))
    assert supported_words(written, weak, 0.25) == frozenset({1})  # no floor given
    assert supported_words(written, weak, 0.25, 0.05) == frozenset({0, 1})
    assert supported_words(written, unprompted, 0.25, 0.05) == frozenset({1})
    faint = (WordSupport("Guests", 0.01, prompted=True),)
    assert supported_words(written, faint, 0.25, 0.05) == frozenset()
    result = assess(
        "Guests are coming.",
        transcript_of("Yes are coming."),
        support=(*weak, WordSupport("coming.", 0.9, prompted=True)),
        support_probability=0.25,
        prompted_probability=0.05,
    )
    assert result.passed
    assert {w.word: w.heard for w in result.words}["Guests"] == "Yes"  # still shown as heard


def test_a_name_the_prompted_decoding_wrote_needs_no_forced_probability() -> None:
    written = ("This", "is", "Ali", "speaking")
    ali = (WordSupport("Ali", 0.0, prompted=True),)
    assert supported_words(written, ali, 0.25, 0.05) == frozenset()
    assert supported_words(written, ali, 0.25, 0.05, frozenset({"Ali"})) == frozenset({2})
    unprompted = (WordSupport("Ali", 0.0),)
    assert supported_words(written, unprompted, 0.25, 0.05, frozenset({"Ali"})) == frozenset()
    result = assess(
        "This is Ali speaking.",
        transcript_of("This is always speaking."),
        support=(WordSupport("This", 0.7), WordSupport("is", 0.9), *ali),
        support_probability=0.25,
        prompted_probability=0.05,
    )
    assert result.passed


def _phones(word: str, status: str = "ok", score: int = 100, n: int = 2) -> WordPhones:
    phone = PhoneResult("T", 0.0, 0.1, 2.0, score, "ok")
    return WordPhones(word, (phone,) * n, score, status)  # type: ignore[arg-type]


def test_phone_evidence_backs_words_whose_phones_are_all_there() -> None:
    written = written_words("My tooth hurts, Dr. Ali.")
    assert written == ("My", "tooth", "hurts", "Dr", "Ali")
    support = (WordSupport("My", 0.9), WordSupport("tooth", 0.01), WordSupport("Ali.", 0.3, True))
    phones = (
        _phones("My"),
        _phones("tooth", score=97),
        _phones("hurts", status="mispronounced"),
        _phones("Dr", score=60),
        _phones("Ali", n=0),  # nothing to align: no evidence either way
    )
    merged = with_phone_evidence(written, support, phones, min_score=90)
    assert [s.word for s in merged] == list(written)  # keyed to the written words
    assert [round(s.probability, 2) for s in merged] == [1.0, 1.0, 0.0, 0.0, 0.3]
    assert merged[4].prompted  # the recogniser's own evidence is kept
    backed = supported_words(written, merged, 0.25)
    assert backed == {0, 1, 4}


def test_phone_evidence_of_another_length_is_ignored() -> None:
    written = ("I", "want", "water")
    merged = with_phone_evidence(written, (), (_phones("I"), _phones("want")), min_score=90)
    assert [s.probability for s in merged] == [0.0, 0.0, 0.0]


def test_words_heard_beside_a_backed_word_are_its_split_not_extra_words() -> None:
    """Piper's "When will Ramadan start?" heard by tiny.en as "when we'll ram it on start":
    the audio backs "Ramadan", so "it" and "on" are the recogniser's split of it."""
    target, heard = "When will Ramadan start?", "when we'll ram it on start."
    backing = support(target, {"When": 0.7, "will": 0.9, "Ramadan": 0.92, "start?": 0.96})
    alone = assess(target, transcript_of(heard))
    backed = assess(target, transcript_of(heard), support=backing, support_probability=0.25)
    inserted = [w.word for w in backed.words if w.status is WordStatus.INSERTED]
    assert [w.word for w in alone.words if w.status is WordStatus.INSERTED] == ["we", "it", "on"]
    assert inserted == ["we"]  # "we'll" for "will" is still a word more than the target
    assert backed.passed and not alone.passed
    assert backed.scores.accuracy > alone.scores.accuracy


def test_the_prompted_reading_matters_only_between_the_floors_or_for_a_name() -> None:
    words = ("I", "want", "tea")

    def forced(p: float) -> tuple[WordSupport, ...]:
        return (WordSupport("I", 0.9), WordSupport("want", 0.9), WordSupport("tea.", p))

    assert not prompted_matters(words, forced(0.9), 0.25, 0.05)  # backed anyway
    assert not prompted_matters(words, forced(0.01), 0.25, 0.05)  # never backed
    assert prompted_matters(words, forced(0.1), 0.25, 0.05)  # backed only if prompted
    assert not prompted_matters(words, forced(0.1), 0.25)  # no prompted floor
    # A name the prompted decoding writes is backed whatever its forced probability.
    named = ("I", "met", "Ali")
    reading = (WordSupport("I", 0.9), WordSupport("met", 0.9), WordSupport("Ali.", 0.0))
    assert prompted_matters(named, reading, 0.25, 0.05, frozenset({"Ali"}))
    assert not prompted_matters(named, reading, 0.25, 0.05)
