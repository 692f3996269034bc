"""Spelling-to-sound keys of English words."""

from __future__ import annotations

from ustad.assess.sound_keys import consonant_key, sound_key


def test_sound_key_keeps_vowel_classes_and_consonant_key_drops_them() -> None:
    assert sound_key("ship") != sound_key("sheep")
    assert consonant_key("ship") == consonant_key("sheep")
    assert consonant_key("bed") == consonant_key("bet")  # voicing merged
    assert sound_key("") == consonant_key("") == ""
