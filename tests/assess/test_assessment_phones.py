"""The assessment JSON with the phone stage's result (``assessment.phones``)."""

from __future__ import annotations

from ustad.assess.types import Assessment, Scores, WordResult, WordStatus
from ustad.speech.phones.types import PhoneResult, WordPhones


def _assessment() -> Assessment:
    return Assessment(
        target="very good",
        transcript="wery good",
        scores=Scores(80.0, 80.0, 100.0, 90.0),
        passed=True,
        words=(WordResult("very", WordStatus.MISPRONOUNCED, "wery"),),
    )


def test_no_phones_key_without_the_phone_stage() -> None:
    assert "phones" not in _assessment().to_dict()


def test_phones_per_target_word() -> None:
    v = PhoneResult("V", 0.5, 0.6, -4.2, 2, "mispronounced", "W")
    eh = PhoneResult("EH", 0.6, 0.7, 3.0, 100, "ok")
    word = WordPhones("very", (v, eh), 51, "mispronounced")
    found = _assessment().with_phones((word,)).to_dict()["phones"]
    assert found == [
        {
            "word": "very",
            "score": 51,
            "status": "mispronounced",
            "phones": [
                {"phone": "V", "start": 0.5, "end": 0.6, "gop": -4.2, "score": 2,
                 "status": "mispronounced", "heard": "W"},
                {"phone": "EH", "start": 0.6, "end": 0.7, "gop": 3.0, "score": 100,
                 "status": "ok", "heard": ""},
            ],
        }
    ]  # fmt: skip
