"""What no voice should read aloud: tags, Markdown, emoji and control characters."""

from __future__ import annotations

import pytest

from ustad.text.markup import strip_controls, strip_emoji, strip_markup


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ('<speak>Hello <break time="500ms"/> world</speak>', "Hello world"),
        ("<b>Good</b> <i>morning</i>!", "Good morning!"),
        ('<prosody rate="slow">Say it slowly.</prosody>', "Say it slowly."),
        ("Tom &amp; Jerry", "Tom & Jerry"),
        ("<!-- note --> Hi", "Hi"),
        ("**Great** job!", "Great job!"),
        ("_very_ *good* ***work***", "very good work"),
        ("# Lesson one\nSay `hello`.", "Lesson one Say hello."),
        ("Read [this page](https://example.org/x) now.", "Read this page now."),
        ("![a cat](cat.png) sat", "a cat sat"),
        ("- apples\n- pears", "apples pears"),
        ("> Quoted words", "Quoted words"),
        ("Great job! 👍🎉", "Great job!"),
        ("Well done 👏🏽 Ali ❤️", "Well done Ali"),
        ("Family 👨‍👩‍👧 time 🇵🇰", "Family time"),
        ("Hello\u0000 world", "Hello world"),
        ("Line one\nline two\r\n", "Line one line two"),
        ("It is 25° and © 2024", "It is 25° and © 2024"),
        ("x < y and 3 > 2", "x < y and 3 > 2"),
    ],
)
def test_markup_is_not_read_aloud(text: str, spoken: str) -> None:
    assert strip_markup(text) == spoken


def test_controls_go_but_urdu_joiners_stay() -> None:
    assert strip_controls("a\x1bb\x7fc\u200bd") == "abcd"
    assert strip_controls("می\u200cرا") == "می\u200cرا"  # zero-width non-joiner


def test_emoji_only_leaves_nothing() -> None:
    assert strip_emoji("🎉✨👍") == ""
    assert strip_markup("<speak></speak> 🎉") == ""
