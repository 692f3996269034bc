"""Urdu text for the Urdu voice: every digit script said, markup never read."""

from __future__ import annotations

import pytest

from ustad.text.urdu import spoken_urdu


@pytest.mark.parametrize(
    "text", ["میری عمر ۲۵ سال ہے۔", "میری عمر 25 سال ہے۔", "میری عمر ٢٥ سال ہے۔"]
)
def test_all_three_digit_scripts_become_digits_the_voice_says(text: str) -> None:
    assert spoken_urdu(text) == "میری عمر 25 سال ہے۔"


def test_markup_and_emoji_are_stripped_for_urdu_too() -> None:
    assert spoken_urdu("<b>شاباش</b>! 👍") == "شاباش!"
    assert spoken_urdu("**بہت خوب**\u0000") == "بہت خوب"
