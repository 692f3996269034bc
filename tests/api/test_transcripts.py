"""Transcripts in OpenAI's shapes: the recogniser's segments (rebuilt from words when it
gives none), SRT, WebVTT."""

from __future__ import annotations

from dataclasses import replace

from ustad.api.transcripts import (
    compression_ratio,
    subtitles,
    timed_segments,
    verbose_json,
)
from ustad.speech.types import Transcript, TranscriptSegment, Word


def transcript(words: list[tuple[str, float, float]], duration: float = 8.0) -> Transcript:
    return Transcript(
        text=" ".join(w for w, _, _ in words),
        language="en",
        language_probability=1.0,
        duration=duration,
        words=tuple(Word(w, s, e, 0.9) for w, s, e in words),
        avg_logprob=-0.3,
    )


TWO = transcript(
    [
        ("Hello", 0.2, 0.6),
        ("there.", 0.7, 1.1),
        ("How", 1.3, 1.5),
        ("are", 1.6, 1.7),
        ("you", 1.8, 2.0),
        ("after", 3.5, 3.9),  # a pause of 1.5 s
        ("all?", 4.0, 4.4),
    ]
)


def test_segments_end_at_sentence_ends_and_long_pauses() -> None:
    segments = timed_segments(TWO)
    assert [s.text for s in segments] == ["Hello there.", "How are you", "after all?"]
    assert (segments[0].start, segments[0].end) == (0.2, 1.1)
    assert (segments[2].start, segments[2].end) == (3.5, 4.4)


def test_without_words_the_whole_text_is_one_segment() -> None:
    bare = Transcript(text=" Hi. ", language="en", language_probability=1.0, duration=2.5)
    assert [(s.text, s.start, s.end) for s in timed_segments(bare)] == [("Hi.", 0.0, 2.5)]
    empty = Transcript(text="", language="en", language_probability=1.0, duration=2.5)
    assert timed_segments(empty) == [] and subtitles(empty, "vtt") == "WEBVTT\n\n"


def test_srt_and_vtt() -> None:
    assert subtitles(TWO, "srt").startswith("1\n00:00:00,200 --> 00:00:01,100\nHello there.\n\n2\n")
    vtt = subtitles(TWO, "vtt")
    assert vtt.startswith("WEBVTT\n\n00:00:00.200 --> 00:00:01.100\nHello there.\n\n")
    assert "00:00:03.500 --> 00:00:04.400\nafter all?\n\n" in vtt


def test_verbose_json_has_what_was_asked() -> None:
    body = verbose_json(TWO, task="transcribe", words=True, segments=False, language="en")
    assert "segments" not in body and len(body["words"]) == 7
    assert body["words"][0] == {"word": "Hello", "start": 0.2, "end": 0.6, "probability": 0.9}
    body = verbose_json(TWO, task="transcribe", words=False, segments=True, language="en")
    assert "words" not in body and len(body["segments"]) == 3
    first = body["segments"][0]
    assert first["id"] == 0 and first["text"] == " Hello there." and first["avg_logprob"] == -0.3
    assert body["duration"] == 8.0 and body["usage"] == {"type": "duration", "seconds": 8.0}


def test_the_recognisers_own_segments_are_used_when_given() -> None:
    own = (
        TranscriptSegment("Hello there. How are you", 0.0, 2.1, -0.2, 1.3, 0.01, 0.0, (1, 2)),
        TranscriptSegment("after all?", 2.1, 4.6, -0.7, 0.9, 0.05, 0.4, (3,)),
    )
    decoded = replace(TWO, segments=own)
    assert timed_segments(decoded) == list(own)  # not cut at the sentence end
    body = verbose_json(decoded, task="transcribe", words=True, segments=True, language="en")
    assert body["segments"][1] == {
        "id": 1,
        "seek": 0,
        "start": 2.1,
        "end": 4.6,
        "text": " after all?",
        "tokens": [3],
        "temperature": 0.4,
        "avg_logprob": -0.7,
        "compression_ratio": 0.9,
        "no_speech_prob": 0.05,
    }
    assert len(body["words"]) == 7  # words still from the word timings
    assert subtitles(decoded, "srt").startswith("1\n00:00:00,000 --> 00:00:02,100\nHello")


def test_rebuilt_segments_carry_the_clips_measures() -> None:
    first = timed_segments(TWO)[0]
    assert (first.avg_logprob, first.tokens) == (-0.3, ())
    assert first.compression_ratio == compression_ratio("Hello there.")


def test_compression_ratio_grows_with_repetition() -> None:
    assert compression_ratio("") == 0.0
    assert compression_ratio("the the the the " * 20) > 2.4 > compression_ratio("Hello there.")
