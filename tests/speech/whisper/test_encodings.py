"""The cache of recent encoder outputs: unit tests with a stand-in encoder, then base."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from tests.speech.whisper.helpers import URDU_LANGUAGES, arabic_script_share, encoder_widths
from ustad.speech.types import Audio
from ustad.speech.whisper import WhisperTranscriber
from ustad.speech.whisper.encodings import CACHE_NAME, encode_cached, encoder_cache


@dataclass
class Output:
    """Shaped like a CTranslate2 StorageView, as far as the cache looks."""

    shape: tuple[int, ...]
    dtype: str = "DataType.float32"


class CountingEncoder:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, features: np.ndarray) -> Output:
        self.calls += 1
        return Output(shape=(1, features.shape[-1] // 2, 8))


def features(seed: int, frames: int = 100) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((80, frames)).astype(np.float32)


def test_identical_features_are_encoded_once() -> None:
    cache, encode = encoder_cache(4), CountingEncoder()
    first = encode_cached(cache, features(1), encode)
    again = encode_cached(cache, features(1).copy(), encode)
    assert again is first
    assert encode.calls == 1
    stats = cache.stats()
    assert (stats.name, stats.hits, stats.misses, stats.entries) == (CACHE_NAME, 1, 1, 1)
    assert (stats.bytes, stats.max_entries) == (50 * 8 * 4, 4)


def test_any_difference_is_a_miss() -> None:
    cache, encode = encoder_cache(4), CountingEncoder()
    base = features(1)
    encode_cached(cache, base, encode)
    changed = base.copy()
    changed[3, 7] += 1e-6
    encode_cached(cache, changed, encode)
    encode_cached(cache, base[:, :60], encode)  # a narrower window of the same clip
    assert encode.calls == 3
    assert cache.stats().hits == 0


def test_the_least_recently_used_encoding_goes_first() -> None:
    cache, encode = encoder_cache(2), CountingEncoder()
    for seed in (1, 2):
        encode_cached(cache, features(seed), encode)
    encode_cached(cache, features(1), encode)  # 1 is now the most recent
    encode_cached(cache, features(3), encode)  # evicts 2
    assert (len(cache), cache.stats().evictions) == (2, 1)
    encode_cached(cache, features(1), encode)
    assert encode.calls == 3
    encode_cached(cache, features(2), encode)
    assert encode.calls == 4
    assert cache.stats().bytes == 2 * 50 * 8 * 4


def test_none_kept_keeps_nothing_and_counts_nothing() -> None:
    cache, encode = encoder_cache(0), CountingEncoder()
    for _ in range(3):
        encode_cached(cache, features(1), encode)
    assert encode.calls == 3
    stats = cache.stats()
    assert (stats.hits, stats.misses, stats.entries, stats.bytes) == (0, 0, 0, 0)


def test_a_negative_count_is_refused() -> None:
    with pytest.raises(ValueError, match="encodings kept"):
        encoder_cache(-1)


def test_clear_forgets_the_encodings_but_not_the_counts() -> None:
    cache, encode = encoder_cache(4), CountingEncoder()
    encode_cached(cache, features(1), encode)
    cache.clear()
    stats = cache.stats()
    assert (stats.entries, stats.bytes, stats.misses) == (0, 0, 1)
    encode_cached(cache, features(1), encode)
    assert encode.calls == 2


# --- on the real model ------------------------------------------------------------------


@pytest.mark.models
def test_the_urdu_step_encodes_each_full_window_once(
    base_reusing: WhisperTranscriber,
    whisper_base: WhisperTranscriber,
    urdu_audio: list[tuple[Audio, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    widths = encoder_widths(base_reusing, monkeypatch)
    cache = base_reusing.encodings
    cache.clear()
    for audio, _ in urdu_audio:
        before = cache.stats()
        guess = base_reusing.detect_language(audio)
        base_reusing.transcribe(audio, language="ur")  # the short window: its own encoding
        translation = base_reusing.transcribe(audio, language="ur", task="translate")
        # Language id's encoding is reused as is, so nothing changes but the time.
        after = cache.stats()
        assert (after.hits - before.hits, after.misses - before.misses) == (1, 2)
        assert translation == whisper_base.transcribe(audio, language="ur", task="translate")
        alone = whisper_base.detect_language(audio)
        assert guess.language == alone.language in URDU_LANGUAGES
        assert guess.probability == pytest.approx(alone.probability)
    # Asked for: 30 s (language id), 10 s (short-window transcript), 30 s (translation).
    assert widths == [1500, 500, 1500] * len(urdu_audio)
    assert len(cache) <= 4


@pytest.mark.models
def test_a_short_look_at_urdu_shares_its_encoding_with_the_transcription(
    base_reusing: WhisperTranscriber,
    urdu_audio: list[tuple[Audio, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    widths = encoder_widths(base_reusing, monkeypatch)
    cache = base_reusing.encodings
    cache.clear()
    for audio, _ in urdu_audio:
        before = cache.stats()
        guess = base_reusing.detect_language(audio, short_window=True)
        assert guess.language in URDU_LANGUAGES
        assert guess.probability >= 0.5  # confident enough for the tutor to take it
        transcript = base_reusing.transcribe(audio, language="ur")
        assert arabic_script_share(transcript.text) > 0.9
        after = cache.stats()
        assert (after.hits - before.hits, after.misses - before.misses) == (1, 1)
    assert widths == [500, 500] * len(urdu_audio)
