"""Drills (a word or sentence said again and again) decoded one voiced piece at a time."""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING

import numpy as np
import pytest

from tests.conftest import REPO_ROOT
from tests.speech.whisper.helpers import decode_results, segment, silence
from ustad.assess.normalize import normalize_target
from ustad.assess.score import assess
from ustad.assess.types import WordStatus
from ustad.speech.audio import SpeechSpan, concatenate
from ustad.speech.espeak_tts import EspeakSynthesizer
from ustad.speech.piper_tts import PiperSynthesizer
from ustad.speech.types import (
    SAMPLE_RATE,
    Audio,
    Synthesizer,
    Transcript,
    TranscriptSegment,
    Word,
)
from ustad.speech.whisper import WhisperTranscriber, pieces
from ustad.speech.whisper.checks import token_budget
from ustad.speech.whisper.pieces import (
    MAX_PIECES,
    PIECE_PAD_SECONDS,
    Piece,
    believable,
    joined,
    lost_speech,
    pieces_to_decode,
    voiced_pieces,
)
from ustad.speech.whisper.transcript import Decoded

if TYPE_CHECKING:
    from tests.speech.conftest import WavLoader

CASES = REPO_ROOT.parent / "shared" / "cases" / "assessment"


def tokens(text: str) -> list[str]:
    """The words of ``text`` as assessment compares them (case, punctuation, "I'm")."""
    return [token.text for token in normalize_target(text).tokens]


def decoded(*segments: object, tokens: int = 10) -> Decoded:
    text = " ".join(str(getattr(s, "text", "")).strip() for s in segments)
    return Decoded(Transcript(text, "en", 1.0, 5.0), tuple(segments), tokens)


# --------------------------------------------------------------------- no model needed


def test_a_dropped_loop_a_spent_budget_or_no_text_asks_for_pieces() -> None:
    speech = segment(0.0, 2.0, "so mary went on", avg_logprob=-0.3, no_speech_prob=0.1)
    looped = segment(0.0, 5.0, "very", avg_logprob=-0.1, no_speech_prob=0.1, compression_ratio=9)
    spread = [
        segment(0.0, 1.0, "no i am", avg_logprob=-0.1, no_speech_prob=0.1),
        segment(1.0, 2.0, "no i am no i am", avg_logprob=-0.1, no_speech_prob=0.1),
    ]
    assert lost_speech(decoded(speech), 5.0) is None
    assert lost_speech(decoded(speech, looped), 5.0) == "repetition dropped"
    assert lost_speech(decoded(*spread), 5.0) == "repetition dropped"
    assert lost_speech(decoded(speech, tokens=token_budget(5.0)), 5.0) == "token budget"
    assert lost_speech(decoded(), 5.0) == "no text"  # pieces only where the VAD hears speech


def test_a_piece_may_not_hold_more_words_than_its_speech() -> None:
    piece = Piece(start=1.0, end=2.4, voiced=1.0)
    assert believable(piece, Transcript("No, I am not.", "en", 1.0, 1.4))
    loop = Transcript(" ".join(["very"] * 12), "en", 1.0, 1.4)
    assert not believable(piece, loop)


def test_pieces_are_joined_on_the_clips_clock() -> None:
    first, second, quiet = Piece(0.3, 1.5, 1.0), Piece(2.0, 3.4, 1.2), Piece(4.0, 4.5, 0.2)
    heard = [
        (first, Transcript("Very.", "en", 1.0, 1.2, (Word("Very.", 0.1, 0.6, 0.9),), 0.1, -0.2)),
        (second, Transcript("Very.", "en", 1.0, 1.4, (Word("Very.", 0.2, 0.7, 0.8),), 0.3, -0.4)),
        (quiet, Transcript("", "en", 1.0, 0.5, (), 1.0, 0.0)),
    ]
    whole = Transcript("", "en", 1.0, 5.0, no_speech_probability=0.2)
    result = joined(heard, whole)
    assert result.text == "Very. Very."
    assert [(w.start, w.end) for w in result.words] == [
        pytest.approx((0.4, 0.9)),
        pytest.approx((2.2, 2.7)),
    ]
    assert result.avg_logprob == pytest.approx((1.0 * -0.2 + 1.2 * -0.4) / 2.2)
    assert result.no_speech_probability == 0.3  # the pieces that gave text
    assert result.duration == 5.0
    assert joined([(quiet, heard[2][1])], whole).text == ""
    # The pieces' own segments move to the clip's clock too.
    own = TranscriptSegment("Very.", 0.0, 1.2, avg_logprob=-0.2)
    moved = joined([(second, replace(heard[1][1], segments=(own,)))], whole).segments
    assert [(s.text, s.start, s.end) for s in moved] == [("Very.", 2.0, 3.2)]


def test_too_few_words_for_the_voiced_regions_asks_for_pieces(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    looks: list[int] = []
    spans = tuple(SpeechSpan(1.5 * k + 0.5, 1.5 * k + 1.3) for k in range(8))

    def detect(audio: Audio) -> tuple[SpeechSpan, ...]:
        looks.append(1)
        return spans

    monkeypatch.setattr(pieces, "detect_speech", detect)
    clip = silence(12.5)
    one_sentence = segment(0.0, 12.5, "Good morning!", avg_logprob=-0.3, no_speech_prob=0.1)
    reason, found = pieces_to_decode(clip, decoded(one_sentence))
    assert reason == "fewer words than voiced regions" and len(found) == len(spans)
    # Words enough for the clip's length: no VAD look at all.
    seven = "so mary went on to study here"
    dense = segment(0.0, 12.5, seven, avg_logprob=-0.3, no_speech_prob=0.1)
    assert pieces_to_decode(clip, decoded(dense)) == ("", [])
    assert len(looks) == 1
    # Sparse but as many words as regions: the decode stands.
    monkeypatch.setattr(pieces, "detect_speech", lambda audio: spans[:2])
    assert pieces_to_decode(clip, decoded(one_sentence)) == ("", [])


def test_silence_gives_no_pieces() -> None:
    assert voiced_pieces(silence(3.0)) == []


def test_pieces_are_padded_within_their_pauses_and_merged_past_the_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    spans = (SpeechSpan(0.1, 0.5), SpeechSpan(0.7, 1.5), SpeechSpan(2.5, 3.0))
    monkeypatch.setattr(pieces, "detect_speech", lambda audio: spans)
    found = voiced_pieces(silence(3.1))
    pad = PIECE_PAD_SECONDS
    assert [(p.start, p.end) for p in found] == [
        pytest.approx((0.0, 0.6)),  # the clip's start; half the 0.2 s pause
        pytest.approx((0.6, 1.5 + pad)),
        pytest.approx((2.5 - pad, 3.1)),  # the clip's end
    ]
    assert [p.voiced for p in found] == pytest.approx([0.4, 0.8, 0.5])

    many = tuple(SpeechSpan(k + 0.1, k + 0.5 + (0.3 if k == 7 else 0.0)) for k in range(30))
    monkeypatch.setattr(pieces, "detect_speech", lambda audio: many)
    merged = voiced_pieces(silence(30.0))
    assert len(merged) == MAX_PIECES
    assert sum(p.voiced for p in merged) == pytest.approx(sum(s.duration for s in many))
    # The shortest pause (after the longer span 7) is merged first.
    assert any(p.start < 7.1 < 8.1 < p.end for p in merged)


# ------------------------------------------------------------------------ real models


def drill(voice: Synthesizer, unit: str, times: int, seed: int) -> Audio:
    """``unit`` said ``times`` times by ``voice``, each at a slightly different speed, with
    pauses of 0.5-1.1 s between and 0.5 s of silence around."""
    rng = random.Random(seed)
    parts = [voice.synthesize(unit, speed=rng.uniform(0.85, 1.15)) for _ in range(times)]
    pcm = concatenate(parts, sample_rate=SAMPLE_RATE, gap_seconds=rng.uniform(0.5, 1.1))
    edge = np.zeros(SAMPLE_RATE // 2, dtype=np.float32)
    speech = pcm.samples.astype(np.float32) / 32768.0
    return Audio(np.concatenate([edge, speech, edge]))


# Words and short sentences a learner drills, in the tutor's voice (Piper) and in a
# robotic one (espeak-ng, 150 words a minute). Before pieces, every one came back as
# an empty transcript (tiny.en loops on them all).
DRILLS = [
    ("piper", "very", 8),
    ("piper", "water", 10),
    ("piper", "world", 7),
    ("piper", "No, I am not.", 5),
    ("piper", "How are you?", 6),
    ("piper", "Thank you very much.", 9),
    ("espeak", "water", 5),
    ("espeak", "thought", 7),
    ("espeak", "Good morning.", 8),
    ("espeak", "Thank you very much.", 6),
]


@pytest.fixture(scope="module")
def voices() -> dict[str, Synthesizer]:
    return {
        "piper": PiperSynthesizer.packaged(threads=1),
        "espeak": EspeakSynthesizer("en", language="en", rate=150),
    }


@pytest.mark.models
@pytest.mark.parametrize(
    ("name", "reference"),
    [
        ("sentence-six-times.wav", " ".join(["No, I am not."] * 6)),
        ("very-eight-times.wav", " ".join(["very"] * 8)),
    ],
)
def test_a_drill_is_heard_as_often_as_it_was_said(
    tiny_en_short: WhisperTranscriber, load_wav: WavLoader, name: str, reference: str
) -> None:
    transcript = tiny_en_short.transcribe(
        load_wav(Path(CASES / name)), language="en", word_timestamps=True
    )
    assert tokens(transcript.text) == tokens(reference), transcript.text
    result = assess(reference, transcript)
    assert result.passed, result
    assert all(word.status is WordStatus.CORRECT for word in result.words), result.words


@pytest.mark.models
def test_synthesised_drills_keep_every_repeat(
    tiny_en_short: WhisperTranscriber, voices: dict[str, Synthesizer]
) -> None:
    counted = passed = 0
    for seed, (voice, unit, times) in enumerate(DRILLS):
        reference = " ".join([unit] * times)
        transcript = tiny_en_short.transcribe(
            drill(voices[voice], unit, times, seed), language="en", word_timestamps=True
        )
        # Every repeat is in the text (a word the model mishears still counts once).
        counted += len(tokens(transcript.text)) == len(tokens(reference))
        passed += assess(reference, transcript).passed
    assert counted >= 0.8 * len(DRILLS)
    assert passed >= 0.8 * len(DRILLS)


@pytest.mark.models
def test_a_loop_inside_every_piece_still_gives_no_text(
    tiny_en_short: WhisperTranscriber,
    voices: dict[str, Synthesizer],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    audio = drill(voices["piper"], "water", 4, seed=0)
    loop = " ".join(["water"] * 30)
    decoded_loop = [segment(0.0, 1.0, loop, avg_logprob=-0.1, no_speech_prob=0.1)]
    info = SimpleNamespace(language="en", language_probability=1.0)
    monkeypatch.setattr(
        tiny_en_short._model, "transcribe", lambda *a, **k: (iter(decoded_loop), info)
    )
    before = tiny_en_short.decode_calls
    assert tiny_en_short.transcribe(audio, language="en").text == ""
    assert tiny_en_short.decode_calls - before > len(voiced_pieces(audio))  # pieces were tried


def test_a_long_english_clip_in_doubt_goes_to_its_pieces_before_the_full_window(
    tiny_en_short: WhisperTranscriber, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A drill over 8 s loops in its own window as in the full one (where each of the
    # three temperatures loops again): its voiced pieces come next, not the full window.
    spans = tuple(SpeechSpan(1.5 * k + 0.5, 1.5 * k + 1.3) for k in range(8))
    monkeypatch.setattr(pieces, "detect_speech", lambda audio: spans)
    loop = [segment(0.0, 12.0, " ".join(["very"] * 30), avg_logprob=-0.1, no_speech_prob=0.1)]
    full = [segment(0.0, 2.6, "So Mary went on to study.", avg_logprob=-0.3, no_speech_prob=0.1)]
    calls = decode_results(tiny_en_short, monkeypatch, loop, full)
    tiny_en_short.transcribe(silence(12.5), language="en", word_timestamps=True)
    whole = [call["frames"] for call in calls if call["max_new_tokens"] == token_budget(12.5)]
    assert whole == [(13 + 3) * 100]  # the clip rounded up, plus 3 s; never the full window
    assert calls[1]["frames"] == 1000  # the first piece (each piece then as any short clip)
    # No voiced pieces to decode: the full window after all, as for a short clip.
    monkeypatch.setattr(pieces, "detect_speech", lambda audio: ())
    calls.clear()
    text = tiny_en_short.transcribe(silence(12.5), language="en", word_timestamps=True).text
    assert [call["frames"] for call in calls] == [1600, None]
    assert text == "So Mary went on to study."


@pytest.mark.models
def test_the_urdu_step_is_not_decoded_in_pieces(
    whisper_base: WhisperTranscriber,
    voices: dict[str, Synthesizer],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # What the English gate at the Urdu step reads must stay as decoded: pieces of
    # English forced into Urdu would only invent Urdu.
    audio = drill(voices["piper"], "water", 4, seed=0)
    loop = [segment(0.0, 1.0, " ".join(["ایسا"] * 30), avg_logprob=-0.1, no_speech_prob=0.1)]
    info = SimpleNamespace(language="ur", language_probability=1.0)
    monkeypatch.setattr(whisper_base._model, "transcribe", lambda *a, **k: (iter(loop), info))
    before = whisper_base.decode_calls
    assert whisper_base.transcribe(audio, language="ur").text == ""
    assert whisper_base.decode_calls - before <= 2  # the whole clip only
