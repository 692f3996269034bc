"""GOP to scores and statuses."""

from __future__ import annotations

from ustad.speech.phones.scoring import (
    CONSONANT_THRESHOLD,
    GOP_CLIP,
    accuracy,
    phone_score,
    sentence_gop,
    word_phones,
)
from ustad.speech.phones.types import PhoneResult


def _phone(status: str, score: int = 90, gop: float = 2.0) -> PhoneResult:
    return PhoneResult("S", 0.0, 0.1, gop, score, status, "")  # type: ignore[arg-type]


def test_score_is_half_at_the_threshold_and_rises_with_gop() -> None:
    assert phone_score(CONSONANT_THRESHOLD, "S") == 50
    scores = [phone_score(g, "S") for g in (-30.0, -12.0, -10.0, -5.0, 0.0, 30.0)]
    assert scores == sorted(scores)
    assert scores[0] == 0 and scores[-1] == 100


def test_word_status_from_its_phones() -> None:
    assert word_phones("so", [_phone("ok"), _phone("ok")]).status == "ok"
    assert word_phones("so", [_phone("ok"), _phone("mispronounced", 20)]).status == "mispronounced"
    missing = word_phones("so", [_phone("missing", 5), _phone("missing", 5), _phone("ok")])
    assert missing.status == "missing"
    assert missing.score == round((5 + 5 + 90) / 3)
    assert word_phones("...", []).status == "ok"


def test_sentence_gop_clips_outliers() -> None:
    words = [word_phones("a", [_phone("ok", gop=1000.0), _phone("ok", gop=0.0)])]
    assert sentence_gop(words) == GOP_CLIP / 2
    assert sentence_gop([]) == -GOP_CLIP


def test_accuracy_weighs_words_by_their_phones() -> None:
    words = [word_phones("a", [_phone("ok", 100)]), word_phones("bc", [_phone("ok", 40)] * 3)]
    assert accuracy(words) == (100 + 3 * 40) / 4
    assert accuracy([word_phones("...", [])]) == 100.0
