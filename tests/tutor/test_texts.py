"""Reply wording: the exact English texts the existing client expects, and voices."""

from __future__ import annotations

from ustad.tutor import texts
from ustad.vocabulary import ErrorCode


def test_english_texts_match_the_protocol() -> None:
    assert texts.no_speech("english").text == "No speech detected."
    assert texts.english_instead_of_urdu("english").text == (
        "Great job speaking English! However, please say the Urdu sentence to proceed."
    )
    assert texts.you_said("english", "میں ٹھیک ہوں۔", "I am fine.").text == (
        "You said: میں ٹھیک ہوں. Now repeat after me."
    )
    assert texts.repeat_prompt("english", "I am fine.").text == (
        'The English sentence is "I am fine.". Can you repeat after me?'
    )
    assert texts.full_sentence("english", "I am fine").text == (
        "Now repeat the full sentence: I am fine."
    )
    assert texts.full_sentence("english", "Are you fine?").text == (
        "Now repeat the full sentence: Are you fine?"
    )
    assert texts.word_by_word("english", "I am fine.").text == (
        "Let's practice word-by-word: I am fine."
    )
    assert texts.error_text(ErrorCode.INVALID_JSON, "english") == "Invalid JSON format."
    assert texts.error_text(ErrorCode.NO_AUDIO, "english") == "No audio_base64 found."
    assert texts.error_text(ErrorCode.BAD_BASE64, "english") == "Failed to decode audio."
    assert texts.error_text(ErrorCode.UNDECODABLE_AUDIO, "english") == (
        "No valid audio found in user response."
    )


def test_every_error_has_both_languages() -> None:
    for code in ErrorCode:
        assert texts.error_text(code, "english") and texts.error_text(code, "urdu")


def test_english_you_said_speaks_urdu_sentence_in_urdu_voice() -> None:
    spoken = texts.you_said("english", "میں ٹھیک ہوں", "I am fine.")
    assert [(s.language, s.text) for s in spoken.segments] == [
        ("en", "You said:"),
        ("ur", "میں ٹھیک ہوں"),
        ("en", "Now repeat after me."),
    ]


def test_fixed_parts_are_the_segments_replies_use() -> None:
    fixed = set(texts.fixed_segments())
    for spoken in (
        texts.you_said("english", "میں ٹھیک ہوں", "I am fine."),
        texts.you_said("urdu", "میں ٹھیک ہوں", "I am fine."),
        texts.full_sentence("urdu", "I am fine."),
    ):
        wrappers = [
            s
            for s in spoken.segments
            if s.text not in ("میں ٹھیک ہوں", "میں ٹھیک ہوں۔", "I am fine.")
        ]
        assert wrappers and all(s in fixed for s in wrappers)
    assert len(texts.fixed_replies()) == 4


def test_by_script_splits_urdu_and_english_runs() -> None:
    spoken = texts.by_script("You said: میں ٹھیک ہوں۔ Now repeat after me.")
    assert [s.language for s in spoken.segments] == ["en", "ur", "en"]
    assert spoken.segments[1].text == "میں ٹھیک ہوں۔"
    assert texts.by_script("...").segments == ()


def test_say_it_again_is_clear_in_both_languages() -> None:
    english = texts.say_it_again("english")
    assert "say it again" in english.text and "more simply" in english.text
    assert [segment.language for segment in english.segments] == ["en"]
    urdu = texts.say_it_again("urdu")
    assert "دوبارہ" in urdu.text and [segment.language for segment in urdu.segments] == ["ur"]
