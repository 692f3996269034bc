"""The assessment JSON with the phone stage's result (``assessment.phones``)."""

from __future__ import annotations

from ustad.assess.types import Assessment, Scores, WordResult, WordStatus
from ustad.speech.phones.types import PhoneResult, WordPhones

V = PhoneResult("V", 0.5, 0.6, -4.2, 2, "mispronounced", "W")
EH = PhoneResult("EH", 0.6, 0.7, 3.0, 100, "ok")
G = PhoneResult("G", 0.8, 0.9, 5.0, 98, "ok")
VERY = WordPhones("very", (V, EH), 51, "mispronounced")
GOOD = WordPhones("good", (G,), 98, "ok")


def _assessment() -> Assessment:
    return Assessment(
        target="very good",
        transcript="wery uh good",
        scores=Scores(80.0, 80.0, 100.0, 90.0),
        passed=True,
        words=(
            WordResult("very", WordStatus.MISPRONOUNCED, "wery"),
            WordResult("uh", WordStatus.INSERTED, "uh"),
            WordResult("good", WordStatus.CORRECT, "good"),
        ),
    )


def test_no_phone_keys_without_the_phone_stage() -> None:
    found = _assessment().to_dict()
    assert "pronunciation" not in found
    assert "phones" not in found
    assert all("phones" not in w and "phone_score" not in w for w in found["words"])


def test_phones_ride_on_their_target_words() -> None:
    found = _assessment().with_phones((VERY, GOOD)).to_dict()
    very, extra, good = found["words"]
    assert very["phone_score"] == 51
    assert very["phones"] == [
        {"phone": "V", "start": 0.5, "end": 0.6, "gop": -4.2, "score": 2,
         "status": "mispronounced", "heard": "W"},
        {"phone": "EH", "start": 0.6, "end": 0.7, "gop": 3.0, "score": 100,
         "status": "ok", "heard": ""},
    ]  # fmt: skip
    assert "phones" not in extra and "phone_score" not in extra
    assert good["phone_score"] == 98 and [p["phone"] for p in good["phones"]] == ["G"]


def test_pronunciation_is_the_mean_phone_score() -> None:
    assessment = _assessment().with_phones((VERY, GOOD))
    assert assessment.pronunciation == (2 + 100 + 98) / 3
    assert assessment.to_dict()["pronunciation"] == 66.7


def test_phones_change_no_existing_key() -> None:
    plain = _assessment().to_dict()
    with_phones = _assessment().with_phones((VERY, GOOD)).to_dict()
    assert {k: v for k, v in with_phones.items() if k != "pronunciation"} | {
        "words": plain["words"]
    } == plain
    for before, after in zip(plain["words"], with_phones["words"], strict=True):
        assert {k: after[k] for k in before} == before


def test_a_word_with_nothing_to_say_has_no_phone_score() -> None:
    silent = WordPhones("good", (), 100, "ok")
    found = _assessment().with_phones((VERY, silent)).to_dict()
    assert found["words"][2]["phone_score"] is None and found["words"][2]["phones"] == []


def test_phones_that_do_not_line_up_are_dropped() -> None:
    assert _assessment().with_phones((VERY,)).phones == ()
    assert "pronunciation" not in _assessment().with_phones((VERY,)).to_dict()
