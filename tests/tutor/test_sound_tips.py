"""Sound tips: only on strong evidence, at most one per reply, in English and Urdu."""

from __future__ import annotations

import re

import pytest

from tests.tutor.test_feedback import check_urdu_segments
from ustad.assess.types import Assessment, Scores, WordResult, WordStatus
from ustad.speech.phones.types import PhoneResult, PhoneStatus, WordPhones
from ustad.tutor.feedback import feedback
from ustad.tutor.sound_tips import SoundTip, english_tip, heard_agrees, sound_tip, urdu_tip

C, M, OM, INS = (
    WordStatus.CORRECT,
    WordStatus.MISPRONOUNCED,
    WordStatus.OMITTED,
    WordStatus.INSERTED,
)
ARABIC = re.compile(r"[\u0600-\u06FF]")


def ph(phone: str, status: PhoneStatus = "ok", heard: str = "") -> PhoneResult:
    score = 100 if status == "ok" else 10
    return PhoneResult(phone, 0.0, 0.1, 3.0 if status == "ok" else -5.0, score, status, heard)


def word(text: str, *phones: PhoneResult) -> WordPhones:
    bad = any(p.status != "ok" for p in phones)
    return WordPhones(text, phones, 60 if bad else 100, "mispronounced" if bad else "ok")


VERY_AS_WERY = word("very", ph("V", "mispronounced", "W"), ph("EH"), ph("R"), ph("IY"))
GOOD = word("good", ph("G"), ph("UH"), ph("D"))


def attempt(
    words: list[tuple[str, WordStatus]],
    phones: tuple[WordPhones, ...],
    passed: bool = False,
    heard: dict[str, str] | None = None,
) -> Assessment:
    """``heard``: what the recogniser wrote for a word (default: the word itself)."""
    said = heard or {}
    results = tuple(WordResult(w, s, None if s is OM else said.get(w, w)) for w, s in words)
    target = " ".join(w for w, s in words if s is not INS)
    bare = Assessment(target, target, Scores(70.0, 70.0, 100.0, 100.0), passed, results)
    return bare.with_phones(phones)


CASES = [
    (word("very", ph("V", "mispronounced", "W"), ph("EH")), "wary", "v_as_w", "first", "'w'"),
    (word("away", ph("AH"), ph("W", "mispronounced", "V"), ph("EY")), "avey", "w_as_v", "middle",
     "'v'"),
    (word("bath", ph("B"), ph("AE"), ph("TH", "mispronounced", "T")), "bat", "th_as_t", "last",
     "'t'"),
    (word("this", ph("DH", "mispronounced", "D"), ph("IH"), ph("S")), "dis", "dh_as_d", "first",
     "'d'"),
    (word("zoo", ph("Z", "mispronounced", "JH"), ph("UW")), "Jew", "z_as_j", "first", "'j'"),
    (word("school", ph("S", "mispronounced", "IH S"), ph("K"), ph("UW"), ph("L")), "is cool",
     "vowel_before_s", "first", "'ischool'"),
    (word("house", ph("HH", "missing", ""), ph("AW"), ph("S")), "ows", "no_h", "first", "'h'"),
]  # fmt: skip


@pytest.mark.parametrize(("phones", "heard", "kind", "position", "named"), CASES)
def test_each_typical_confusion_gets_its_tip(
    phones: WordPhones, heard: str, kind: str, position: str, named: str
) -> None:
    words = [(phones.word, M), ("good", C)]
    assessment = attempt(words, (phones, GOOD), heard={phones.word: heard})
    tip = sound_tip(assessment)
    assert tip == SoundTip(phones.word, kind, position)  # type: ignore[arg-type]
    text = english_tip(tip, phones.word)
    assert f"'{phones.word}'" in text and named in text
    runs = urdu_tip(tip, phones.word)
    assert any(ARABIC.search(t) for lang, t in runs if lang == "ur")
    assert ("en", f"'{phones.word}'") in runs
    # Under a hearing spelt without the sound only the stricter rule (left off) says nothing.
    other = attempt(words, (phones, GOOD), heard={phones.word: "hum"})
    assert sound_tip(other) == tip
    assert sound_tip(other, spelling=True) is None
    assert sound_tip(assessment, spelling=True) == tip


@pytest.mark.parametrize(
    ("status", "phones", "heard"),
    [
        (C, VERY_AS_WERY, "wary"),  # the assessment accepted "very": no tip, whatever else
        (OM, VERY_AS_WERY, "wary"),  # nothing said to correct
        (M, word("very", ph("V"), ph("EH"), ph("R"), ph("IY")), "wary"),  # phones all ok
        (M, word("very", ph("V", "mispronounced", "B"), ph("EH")), "berry"),  # not typical
        (
            M,
            word("pass", ph("P"), ph("AE"), ph("S", "mispronounced", "IH S")),
            "a pass",
        ),  # not first
        (M, word("very", ph("V"), ph("EH", "mispronounced", "W")), "wary"),  # W for a vowel
    ],
)
def test_no_tip_without_strong_evidence(status: WordStatus, phones: WordPhones, heard: str) -> None:
    words = [(phones.word, status), ("good", C)]
    assessment = attempt(words, (phones, GOOD), heard={phones.word: heard})
    assert sound_tip(assessment) is None
    without = attempt(words, (), heard={phones.word: heard})
    for mode in ("english", "urdu"):
        assert feedback(assessment, mode) == feedback(without, mode)


@pytest.mark.parametrize(
    ("kind", "heard", "agrees"),
    [
        ("v_as_w", "worry", True),
        ("v_as_w", "very", False),
        ("v_as_w", "what", False),  # "wh" is not the w sound asked about
        ("th_as_t", "tree", True),
        ("th_as_t", "three", False),
        ("th_as_t", "the", False),
        ("dh_as_d", "den", True),
        ("dh_as_d", "then", False),
        ("z_as_j", "Jew", True),
        ("z_as_j", "gee", True),
        ("z_as_j", "zoo", False),
        ("z_as_j", "tube", False),
        ("vowel_before_s", "istation", True),
        ("vowel_before_s", "a station", True),
        ("vowel_before_s", "station", False),
        ("no_h", "ouse", True),
        ("no_h", "house", False),
        ("no_h", "the", True),  # "th" is no h
        ("no_h", None, False),  # nothing heard (or hidden)
    ],
)
def test_the_recogniser_spelling_must_carry_the_sound(
    kind: str, heard: str | None, agrees: bool
) -> None:
    assert heard_agrees(kind, heard) is agrees  # type: ignore[arg-type]


def test_no_phones_no_tip() -> None:
    assert sound_tip(attempt([("very", M), ("good", C)], ())) is None


def test_one_tip_for_the_first_word_in_order_inserted_words_skipped() -> None:
    zoo = word("zoo", ph("Z", "mispronounced", "JH"), ph("UW"))
    words = [("uh", INS), ("very", M), ("uh", INS), ("zoo", M)]
    assessment = attempt(words, (VERY_AS_WERY, zoo), heard={"very": "wary", "zoo": "Jew"})
    assert sound_tip(assessment) == SoundTip("very", "v_as_w", "first")
    reply = feedback(assessment, "english").text
    assert reply.count("came out as") == 1 and "lower lip" in reply
    urdu = feedback(assessment, "urdu")
    check_urdu_segments(urdu)
    assert urdu.text.count("جیسی نکلی") == 1


def test_the_tip_follows_the_words_to_work_on_in_both_languages() -> None:
    assessment = attempt([("very", M), ("good", C)], (VERY_AS_WERY, GOOD), heard={"very": "wary"})
    english = feedback(assessment, "english").text
    assert english.index("Let's work on: 'very'.") < english.index(
        "The first sound of 'very' came out as 'w'."
    )
    urdu = feedback(assessment, "urdu")
    check_urdu_segments(urdu)
    assert "'very'" in urdu.text and "پہلی آواز" in urdu.text and "'w'" in urdu.text
    assert "نچلے ہونٹ" in urdu.text


def test_a_passed_attempt_with_a_word_to_watch_gets_the_tip_too() -> None:
    words = [("very", M), ("good", C)]
    assessment = attempt(words, (VERY_AS_WERY, GOOD), passed=True, heard={"very": "wary"})
    english = feedback(assessment, "english").text
    assert english.startswith("Well done!") and "came out as 'w'" in english
    check_urdu_segments(feedback(assessment, "urdu"))
