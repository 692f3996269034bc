"""Text is said in bounded pieces, cut where a reader would pause."""

from __future__ import annotations

import pytest

from ustad.speech.text_chunks import estimated_seconds, speakable_chunks


def test_a_short_reply_is_one_piece_exactly_as_given() -> None:
    assert speakable_chunks("  Now repeat after me.  ", 200) == ["Now repeat after me."]
    assert speakable_chunks("   ", 200) == []


def test_sentences_then_clauses_then_words() -> None:
    text = "One two three. Four five, six seven; eight nine ten eleven twelve."
    chunks = speakable_chunks(text, 20)
    assert all(len(chunk) <= 20 for chunk in chunks)
    assert " ".join(chunks) == text
    assert chunks[0] == "One two three."


def test_urdu_sentence_marks_are_boundaries() -> None:
    text = "آپ کیسے ہیں؟ میں ٹھیک ہوں۔ شکریہ، بہت اچھا۔"
    chunks = speakable_chunks(text, 15)
    assert all(len(chunk) <= 15 for chunk in chunks)
    assert " ".join(chunks) == text


@pytest.mark.parametrize("text", ["a" * 4096, "word " * 1000, "x" * 450 + " y"])
def test_nothing_is_longer_than_the_bound_and_nothing_is_lost(text: str) -> None:
    chunks = speakable_chunks(text, 200)
    assert all(0 < len(chunk) <= 200 for chunk in chunks)
    assert "".join(chunks).replace(" ", "") == text.replace(" ", "")


def test_a_bound_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="max_chars"):
        speakable_chunks("text", 0)


def test_slower_speech_is_longer() -> None:
    assert estimated_seconds("x" * 100, 0.5) == pytest.approx(2 * estimated_seconds("x" * 100, 1))
