"""British spellings and compound variants compare as one word."""

from __future__ import annotations

from ustad.assess.normalize import normalize_text
from ustad.text.spelling import comparable_word


def test_british_spellings_map_to_american() -> None:
    pairs = [
        ("colour", "color"),
        ("organise", "organize"),
        ("travelling", "traveling"),
        ("kilometre", "kilometer"),
        ("programme", "program"),
        ("judgement", "judgment"),
    ]
    assert [comparable_word(b) for b, _ in pairs] == [a for _, a in pairs]


def test_hyphen_and_spacing_variants_are_one_word() -> None:
    assert normalize_text("WiFi") == normalize_text("Wi-Fi") == normalize_text("wifi")
    assert normalize_text("e-mail") == normalize_text("email")
