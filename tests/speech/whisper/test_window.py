"""The short-clip encoder window: where it is used, what it hears, when it gives way."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise
from typing import TYPE_CHECKING

import faster_whisper.transcribe as fw
import numpy as np
import pytest

from tests.speech.whisper.helpers import (
    URDU_LANGUAGES,
    arabic_script_share,
    clip_audio,
    decode_results,
    encoder_widths,
    segment,
    silence,
)
from tests.speech.whisper.test_transcriber import CLEAN_CLIPS
from ustad.speech.model_paths import english_whisper_dir
from ustad.speech.types import Audio
from ustad.speech.whisper import WhisperTranscriber
from ustad.speech.whisper.checks import token_budget
from ustad.speech.whisper.window import SHORT_CLIP_MAX_SECONDS

if TYPE_CHECKING:
    from tests.conftest import LearnerClip
    from tests.speech.conftest import WavLoader

pytestmark = pytest.mark.models


@pytest.mark.parametrize("utt_id", CLEAN_CLIPS)
def test_short_window_hears_clean_clips_like_the_full_window(
    tiny_en: WhisperTranscriber,
    tiny_en_short: WhisperTranscriber,
    learner_clips: list[LearnerClip],
    load_wav: WavLoader,
    monkeypatch: pytest.MonkeyPatch,
    utt_id: str,
) -> None:
    audio = clip_audio(learner_clips, utt_id, load_wav)
    widths = encoder_widths(tiny_en_short, monkeypatch)
    full = tiny_en.transcribe(audio, language="en", word_timestamps=True)
    short = tiny_en_short.transcribe(audio, language="en", word_timestamps=True)
    assert short.text == full.text == CLEAN_CLIPS[utt_id]
    # Clips of 3-5 s are encoded in a 10 s window (500 encoder positions instead of 1500).
    assert widths and set(widths) == {500}
    assert [w.text for w in short.words] == [w.text for w in full.words]
    assert all(0.0 <= w.start <= w.end <= audio.duration + 0.01 for w in short.words)
    assert all(a.end <= b.start + 1e-6 for a, b in pairwise(short.words))
    # Measured over 147 clips heard alike: word starts agree within 0.11 s (99th
    # percentile); ends come out later in a short window, the last word's above all
    # (+0.12 s on average, at most 0.54 s; other ends within 0.3 s, 99th percentile).
    for s, f in zip(short.words, full.words, strict=True):
        assert abs(s.start - f.start) <= 0.15
        assert abs(s.end - f.end) <= 0.3
    assert sum(w.probability for w in short.words) / len(short.words) > 0.6
    plain = tiny_en_short.transcribe(audio)
    assert plain.text == CLEAN_CLIPS[utt_id]
    assert plain.no_speech_probability < 0.2


def test_long_clips_and_the_default_keep_the_full_window(
    tiny_en: WhisperTranscriber,
    tiny_en_short: WhisperTranscriber,
    learner_clips: list[LearnerClip],
    load_wav: WavLoader,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    longest = max(learner_clips, key=lambda clip: load_wav(clip.path).duration)
    audio = load_wav(longest.path)
    assert audio.duration > SHORT_CLIP_MAX_SECONDS
    widths = encoder_widths(tiny_en_short, monkeypatch)
    tiny_en_short.transcribe(audio, language="en", word_timestamps=True)
    assert widths and set(widths) == {1500}
    default_widths = encoder_widths(tiny_en, monkeypatch)
    tiny_en.transcribe(clip_audio(learner_clips, "000010122", load_wav))
    assert default_widths and set(default_widths) == {1500}


def test_the_window_belongs_to_the_calling_thread(tiny_en_short: WhisperTranscriber) -> None:
    # Executor threads share one model: a window set by one call must not reach a
    # call running at the same time in another thread.
    model = tiny_en_short._model
    features = np.zeros((80, 3000), dtype=np.float32)  # what faster-whisper encodes
    inside, checked = threading.Event(), threading.Event()
    widths: dict[str, int] = {}

    def short_call() -> None:
        with model.window(1000):
            inside.set()
            checked.wait(timeout=30)
            widths["short"] = model.encode(features).shape[1]
        widths["after"] = model.encode(features).shape[1]

    def other_call() -> None:
        inside.wait(timeout=30)
        widths["other"] = model.encode(features).shape[1]
        checked.set()

    threads = [threading.Thread(target=short_call), threading.Thread(target=other_call)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert widths == {"short": 500, "other": 1500, "after": 1500}


def test_short_window_calls_in_parallel_keep_their_own_window(
    learner_clips: list[LearnerClip], load_wav: WavLoader
) -> None:
    # The window is per thread: one call's 10 s window must not cut another call's
    # 11 s window, nor a full-window call's. Greedy only, so that every result is
    # repeatable (the full window's sampled retries are not).
    engine = WhisperTranscriber(
        english_whisper_dir("packaged"),
        cpu_threads=1,
        num_workers=2,
        temperatures=(0.0,),
        short_clip_window=True,
    )
    durations = {clip.utt_id: load_wav(clip.path).duration for clip in learner_clips}
    by_length = sorted(durations, key=durations.__getitem__)
    middle = [i for i in by_length if 7.0 < durations[i] <= SHORT_CLIP_MAX_SECONDS]
    chosen = [*CLEAN_CLIPS, *middle[-2:], *by_length[-2:]]  # 3-4.5 s, 7-8 s, 14-15 s
    assert len(chosen) == 9
    audios = [clip_audio(learner_clips, utt_id, load_wav) for utt_id in chosen]
    sequential = [engine.transcribe(a, word_timestamps=True) for a in audios]
    with ThreadPoolExecutor(max_workers=4) as pool:
        parallel = list(pool.map(lambda a: engine.transcribe(a, word_timestamps=True), audios))
    assert [t.text for t in parallel] == [t.text for t in sequential]
    assert [t.words for t in parallel] == [t.words for t in sequential]


def test_short_window_respects_thetoken_budget(
    base_short: WhisperTranscriber, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Base forced to Urdu decodes a repetition loop on silence: the worst case for a
    # short window. Every decode, short or full, stops at the clip's budget.
    budget = token_budget(3.0)
    decoded: list[int] = []
    generate = base_short._model.generate_with_fallback

    def spy(*args: object, **kwargs: object) -> tuple[object, ...]:
        result = generate(*args, **kwargs)
        decoded.append(len(result[0].sequences_ids[0]))
        return result

    monkeypatch.setattr(base_short._model, "generate_with_fallback", spy)
    transcript = base_short.transcribe(silence(3.0), language="ur")
    assert transcript.text == ""
    assert decoded
    assert max(decoded) <= budget


FULL_RESULT = [segment(0.0, 2.6, "So Mary went on to study.", avg_logprob=-0.3, no_speech_prob=0.1)]


@pytest.mark.parametrize("avg_logprob", [-0.4, -1.1])
def test_an_unremarkable_short_decode_is_kept(
    tiny_en_short: WhisperTranscriber, monkeypatch: pytest.MonkeyPatch, avg_logprob: float
) -> None:
    # -1.1 is below Whisper's retry threshold but a short window's log-probs run lower.
    text = "So Mary went on to study."
    short = [segment(0.0, 2.6, text, avg_logprob=avg_logprob, no_speech_prob=0.1)]
    calls = decode_results(tiny_en_short, monkeypatch, short, [])
    transcript = tiny_en_short.transcribe(silence(3.0), word_timestamps=True)
    assert transcript.text == "So Mary went on to study."
    assert len(calls) == 1
    # A 3 s clip: 10 s window, greedy only, the same token budget as the full window.
    assert calls[0]["frames"] == 1000
    assert calls[0]["temperature"] == [0.0]
    assert calls[0]["max_new_tokens"] == token_budget(3.0) == 88


@pytest.mark.parametrize(
    ("short", "reason"),
    [
        ([], "no text"),
        (
            [
                segment(
                    0.0, 2.6, "So Mary went on to study.", avg_logprob=-0.5, no_speech_prob=0.0
                ),
                segment(
                    2.6, 3.0, "So Mary went on to study.", avg_logprob=-0.5, no_speech_prob=0.0
                ),
            ],
            "segment repeated",
        ),
        (
            [segment(0.0, 2.5, "1, 5, 3, 1, 5, 3,", avg_logprob=-0.2, no_speech_prob=0.1)],
            "words repeated",
        ),
        (
            [segment(0.0, 3.0, "go to go to go to", avg_logprob=-0.2, no_speech_prob=0.1)],
            "repetition",
        ),
        (
            [
                segment(
                    0.0,
                    2.0,
                    "very " * 20,
                    avg_logprob=-0.2,
                    no_speech_prob=0.2,
                    compression_ratio=9.9,
                )
            ],
            "repetition",
        ),
        (
            [
                segment(
                    0.0, 2.6, "So Mary went on.", avg_logprob=-0.2, no_speech_prob=0.1, tokens=88
                )
            ],
            "token budget",
        ),
        (
            [segment(0.0, 2.6, "Some marry one.", avg_logprob=-1.3, no_speech_prob=0.1)],
            "low log-prob",
        ),
        (
            # 16 words in 3 s: "So Mary went on to study" and an invented clause.
            [
                segment(
                    0.0,
                    3.0,
                    "So Mary went on to study and then she went on to study at the school.",
                    avg_logprob=-0.3,
                    no_speech_prob=0.1,
                )
            ],
            "too many words",
        ),
    ],
)
def test_a_doubtful_short_decode_goes_to_the_full_window(
    tiny_en_short: WhisperTranscriber,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    short: list[fw.Segment],
    reason: str,
) -> None:
    calls = decode_results(tiny_en_short, monkeypatch, short, FULL_RESULT)
    with caplog.at_level(logging.DEBUG, logger="ustad.speech.whisper.transcriber"):
        transcript = tiny_en_short.transcribe(silence(3.0), word_timestamps=True)
    assert transcript.text == "So Mary went on to study."
    assert [w.text for w in transcript.words] == ["So", "Mary", "went", "on", "to", "study."]
    assert [call["frames"] for call in calls] == [1000, None]
    assert calls[1]["temperature"] == [0.0, 0.4, 0.8]  # the full window's own retries
    assert f"short window rejected ({reason})" in caplog.text


def test_translation_and_language_id_keep_the_full_window(
    base_short: WhisperTranscriber, monkeypatch: pytest.MonkeyPatch
) -> None:
    full = [segment(0.0, 2.5, "The world's highest.", avg_logprob=-1.4, no_speech_prob=0.1)]
    calls = decode_results(base_short, monkeypatch, [], full)
    translation = base_short.transcribe(silence(2.5), language="ur", task="translate")
    detected = base_short.transcribe(silence(2.5))
    assert translation.text == detected.text == "The world's highest."
    assert [call["frames"] for call in calls] == [None, None]
    urdu = base_short.transcribe(silence(2.5), language="ur")
    assert urdu.text == "The world's highest."  # the short result was empty
    assert [call["frames"] for call in calls[2:]] == [1000, None]


def test_base_short_window_on_urdu(
    base_short: WhisperTranscriber,
    urdu_audio: list[tuple[Audio, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    widths = encoder_widths(base_short, monkeypatch)
    for audio, reference in urdu_audio:
        # Language identification is worse in a short window: it keeps the full one.
        language = base_short.detect_language(audio).language
        assert language in URDU_LANGUAGES
        assert widths == [1500]
        transcript = base_short.transcribe(audio, language="ur")
        assert widths[1:] == [500]  # 2.6 s and 5.5 s clips: a 10 s window, kept
        assert arabic_script_share(transcript.text) > 0.95
        heard = set(transcript.text.split())
        expected = reference.split()
        assert sum(word in heard for word in expected) / len(expected) >= 0.5
        widths.clear()
        detected = base_short.transcribe(audio)  # language unknown: full window
        assert detected.language == language
        assert set(widths) == {1500}
        widths.clear()


def test_a_short_look_never_takes_learner_english_for_urdu(
    base_reusing: WhisperTranscriber, learner_clips: list[LearnerClip], load_wav: WavLoader
) -> None:
    # Every 15th clip: children and adults, short and long (up to 8 s).
    for clip in learner_clips[::15]:
        audio = load_wav(clip.path)
        guess = base_reusing.detect_language(audio, short_window=True)
        assert guess.share(("ur", "hi")) < 0.1, clip.utt_id
