"""Batched Whisper decoding on real recordings: the same answers as the single path."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING

import ctranslate2
import numpy as np
import pytest
from faster_whisper.audio import pad_or_trim
from faster_whisper.tokenizer import Tokenizer

from tests.conftest import REPO_ROOT
from ustad.runtime.executor import EngineExecutor
from ustad.services import build_speech
from ustad.settings import Settings
from ustad.speech.model_paths import english_whisper_dir
from ustad.speech.phrasebank import PhraseBank
from ustad.speech.types import Audio, Task, Transcript
from ustad.speech.whisper_batch import (
    NeedsSingle,
    WhisperBatchTranscriber,
    transcribe_batch,
)
from ustad.speech.whisper_stt import SHORT_CLIP_MAX_SECONDS, WhisperTranscriber

if TYPE_CHECKING:
    from tests.conftest import LearnerClip, UrduClip
    from tests.speech.conftest import WavLoader

pytestmark = pytest.mark.models

# Clear readers (tiny.en hears them exactly), a child, digits, and one clip longer
# than the short window takes (12.5 s), so a batch has both kinds.
CLIPS = ("000010122", "000530163", "001350312", "010120335", "000050047", "096150007")


@pytest.fixture(scope="module")
def tiny_en_short() -> WhisperTranscriber:
    """tiny.en with the short-clip window, as the service runs it."""
    return WhisperTranscriber(
        english_whisper_dir("packaged"), name="whisper-tiny.en", short_clip_window=True
    )


@pytest.fixture(scope="module")
def audios(learner_clips: list[LearnerClip], load_wav: WavLoader) -> list[Audio]:
    by_id = {c.utt_id: c for c in learner_clips}
    return [load_wav(by_id[utt_id].path) for utt_id in CLIPS]


def singles(
    transcriber: WhisperTranscriber,
    audios: Sequence[Audio],
    language: str,
    *,
    task: Task = "transcribe",
    word_timestamps: bool = False,
) -> list[Transcript]:
    return [
        transcriber.transcribe(a, language=language, task=task, word_timestamps=word_timestamps)
        for a in audios
    ]


def assert_same_as_single(
    outcomes: Sequence[Transcript | NeedsSingle], expected: Sequence[Transcript]
) -> int:
    """Every settled outcome equals the single path's transcript; returns how many settled."""
    settled = 0
    for outcome, single in zip(outcomes, expected, strict=True):
        if isinstance(outcome, Transcript):
            settled += 1
            assert outcome == single
    return settled


def test_a_batch_in_short_windows_equals_single_calls(
    tiny_en_short: WhisperTranscriber, audios: list[Audio]
) -> None:
    assert any(a.duration > SHORT_CLIP_MAX_SECONDS for a in audios)
    outcomes = transcribe_batch(tiny_en_short, audios, language="en", word_timestamps=True)
    expected = singles(tiny_en_short, audios, "en", word_timestamps=True)
    assert assert_same_as_single(outcomes, expected) >= len(audios) - 1
    first = outcomes[0]
    assert isinstance(first, Transcript)
    assert first.text == "So Mary went on to study."
    # Word timings when asked: inside the clip, in order.
    assert [w.text for w in first.words] == ["So", "Mary", "went", "on", "to", "study."]
    assert all(0.0 <= w.start < w.end <= audios[0].duration + 0.5 for w in first.words)
    assert all(a.end <= b.start + 1e-6 for a, b in zip(first.words, first.words[1:], strict=False))


def test_a_batch_in_the_full_window_equals_single_calls(
    tiny_en: WhisperTranscriber, audios: list[Audio]
) -> None:
    outcomes = transcribe_batch(tiny_en, audios, language="en")
    expected = singles(tiny_en, audios, "en")
    assert assert_same_as_single(outcomes, expected) >= len(audios) - 1
    assert all(isinstance(o, NeedsSingle) or o.words == () for o in outcomes)


def test_silence_in_a_batch_comes_back_empty_and_leaves_the_others_alone(
    tiny_en_short: WhisperTranscriber, audios: list[Audio]
) -> None:
    # Faint noise, as between words on a phone microphone.
    noise = np.random.default_rng(0).standard_normal(32_000) * 0.003
    silence = Audio(noise.astype(np.float32))
    batch = [audios[0], silence, audios[1]]
    outcomes = transcribe_batch(tiny_en_short, batch, language="en", word_timestamps=True)
    quiet = outcomes[1]
    assert isinstance(quiet, NeedsSingle) or (
        quiet.text == "" and quiet.words == () and quiet.no_speech_probability == 1.0
    )
    expected = singles(tiny_en_short, batch, "en", word_timestamps=True)
    assert assert_same_as_single(outcomes, expected) >= 2


def test_bad_utterances_are_left_to_the_single_path(
    tiny_en_short: WhisperTranscriber, audios: list[Audio]
) -> None:
    wrong_rate = Audio(audios[0].samples, sample_rate=8_000)
    empty = Audio(np.zeros(0, dtype=np.float32))
    outcomes = transcribe_batch(tiny_en_short, [wrong_rate, audios[0], empty], language="en")
    assert isinstance(outcomes[0], NeedsSingle)
    assert "16000 Hz" in outcomes[0].reason
    assert outcomes[2] == NeedsSingle("empty audio")
    assert isinstance(outcomes[1], Transcript)
    assert outcomes[1].text == "So Mary went on to study."
    with pytest.raises(ValueError, match="English-only"):
        transcribe_batch(tiny_en_short, [audios[0]], language="ur")


def test_urdu_batches_equal_single_calls_and_detection_is_not_batched(
    whisper_base: WhisperTranscriber, urdu_clips: list[UrduClip], load_wav: WavLoader
) -> None:
    urdu = [load_wav(c.path) for c in urdu_clips]
    for task in ("transcribe", "translate"):
        outcomes = transcribe_batch(whisper_base, urdu, language="ur", task=task)
        settled = assert_same_as_single(outcomes, singles(whisper_base, urdu, "ur", task=task))
        assert settled >= 1, (task, outcomes)
    wrapped = WhisperBatchTranscriber(whisper_base)
    assert wrapped.can_batch(language="ur", task="transcribe")
    assert not wrapped.can_batch(language=None, task="transcribe")
    assert transcribe_batch(whisper_base, urdu, language=None) == [
        NeedsSingle("not batchable")
    ] * len(urdu)


def test_ctranslate2_stops_whisper_at_half_the_max_length(
    tiny_en: WhisperTranscriber, audios: list[Audio]
) -> None:
    """The token-budget rule of ``whisper_batch`` relies on this CTranslate2 behaviour."""
    model = tiny_en.model
    features = model.feature_extractor(audios[3].samples)  # a 10-word sentence
    window = pad_or_trim(features[:, : features.shape[-1] - 1])[np.newaxis]
    encoded = model.model.encode(ctranslate2.StorageView.from_array(np.ascontiguousarray(window)))
    tokenizer = Tokenizer(model.hf_tokenizer, False, task="transcribe", language="en")
    for prompt in (
        list(tokenizer.sot_sequence),
        [*tokenizer.sot_sequence, tokenizer.no_timestamps],
    ):
        for extra in (4, 7, 10):
            max_length = len(prompt) + extra
            result = model.model.generate(encoded, [prompt], beam_size=1, max_length=max_length)
            assert len(result[0].sequences_ids[0]) == max_length // 2


async def test_the_service_batches_concurrent_transcriptions(
    audios: list[Audio], tiny_en_short: WhisperTranscriber
) -> None:
    settings = Settings.model_validate(
        {
            "stt": {
                "batch_max_size": 3,
                "batch_max_wait_ms": 1000,
                "models_dir": str(REPO_ROOT / "var" / "models"),
            },
            "audio_store": {"enabled": False},
        }
    ).effective()
    executor = EngineExecutor(2)
    try:
        speech = build_speech(settings, executor, PhraseBank.load(None))
        assert isinstance(speech.english_stt, WhisperBatchTranscriber)
        assert speech.batcher is not None
        clips = audios[:3]
        results = await asyncio.gather(
            *(
                speech.transcribe(a, english=True, language="en", word_timestamps=True)
                for a in clips
            )
        )
        stats = speech.batcher.stats()
        assert (stats.batches, stats.items) == (1, 3)
        assert speech.engine_calls["stt_english_transcribe"] == 3
        expected = singles(tiny_en_short, clips, "en", word_timestamps=True)
        assert [r.text for r in results] == [e.text for e in expected]
    finally:
        executor.shutdown()
