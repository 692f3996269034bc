"""ustad's words, text and segments from faster-whisper segments."""

from __future__ import annotations

from dataclasses import replace

import faster_whisper.transcribe as fw

from tests.speech.whisper.helpers import segment
from ustad.speech.types import TranscriptSegment, Word
from ustad.speech.whisper.transcript import segments_of, text_of, words_of


def test_words_keep_their_punctuation_and_times() -> None:
    first = segment(0.0, 1.0, "So Mary", avg_logprob=-0.2, no_speech_prob=0.1)
    blank = fw.Word(1.0, 1.2, "  ", 0.1)
    second = segment(1.0, 2.0, "study.", avg_logprob=-0.2, no_speech_prob=0.1)
    second = replace(second, words=[blank, *second.words])
    assert words_of([first, second]) == [
        Word("So", 0.0, 1.0, 0.5),
        Word("Mary", 0.0, 1.0, 0.5),
        Word("study.", 1.0, 2.0, 0.5),
    ]
    assert words_of([replace(first, words=None)]) == []


def test_text_joins_segments_as_whisper_spaced_them() -> None:
    parts = [
        segment(0.0, 1.0, "So Mary", avg_logprob=-0.2, no_speech_prob=0.1),
        segment(1.0, 2.0, "went on.", avg_logprob=-0.2, no_speech_prob=0.1),
    ]
    assert text_of(parts) == "So Mary went on."
    assert text_of([]) == ""


def test_segments_keep_the_decodes_own_measures() -> None:
    first = segment(
        0.0, 1.4, "So Mary", avg_logprob=-0.2, no_speech_prob=0.1, tokens=3, temperature=0.4
    )
    blank = segment(1.4, 1.6, " ", avg_logprob=-0.9, no_speech_prob=0.9)
    assert segments_of([first, blank], offset=2.0) == (
        TranscriptSegment("So Mary", 2.0, 3.4, -0.2, 1.0, 0.1, 0.4, (0, 1, 2)),
    )
