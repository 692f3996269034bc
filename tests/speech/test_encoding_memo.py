"""The memo of recent Whisper encoder outputs, with a counting stand-in for the encoder."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from ustad.speech.whisper_stt import EncodingMemo


@dataclass
class Output:
    """Shaped like a CTranslate2 StorageView, as far as the memo looks."""

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
    memo, encode = EncodingMemo(4), CountingEncoder()
    first = memo.get_or_compute(features(1), encode)
    again = memo.get_or_compute(features(1).copy(), encode)
    assert again is first
    assert encode.calls == 1
    assert (memo.hits, memo.misses, len(memo)) == (1, 1, 1)
    assert memo.bytes == 50 * 8 * 4


def test_any_difference_is_a_miss() -> None:
    memo, encode = EncodingMemo(4), CountingEncoder()
    base = features(1)
    memo.get_or_compute(base, encode)
    changed = base.copy()
    changed[3, 7] += 1e-6
    memo.get_or_compute(changed, encode)
    memo.get_or_compute(base[:, :60], encode)  # a narrower window of the same clip
    assert encode.calls == 3
    assert memo.hits == 0


def test_the_least_recently_used_encoding_goes_first() -> None:
    memo, encode = EncodingMemo(2), CountingEncoder()
    for seed in (1, 2):
        memo.get_or_compute(features(seed), encode)
    memo.get_or_compute(features(1), encode)  # 1 is now the most recent
    memo.get_or_compute(features(3), encode)  # evicts 2
    assert (len(memo), memo.evictions) == (2, 1)
    memo.get_or_compute(features(1), encode)
    assert encode.calls == 3
    memo.get_or_compute(features(2), encode)
    assert encode.calls == 4
    assert memo.bytes == 2 * 50 * 8 * 4


def test_capacity_zero_keeps_nothing() -> None:
    memo, encode = EncodingMemo(0), CountingEncoder()
    for _ in range(3):
        memo.get_or_compute(features(1), encode)
    assert encode.calls == 3
    assert (memo.hits, memo.misses, len(memo), memo.bytes) == (0, 0, 0, 0)


def test_negative_capacity_is_refused() -> None:
    with pytest.raises(ValueError, match="capacity"):
        EncodingMemo(-1)


def test_clear_forgets_the_encodings_but_not_the_counts() -> None:
    memo, encode = EncodingMemo(4), CountingEncoder()
    memo.get_or_compute(features(1), encode)
    memo.clear()
    assert (len(memo), memo.bytes, memo.misses) == (0, 0, 1)
    memo.get_or_compute(features(1), encode)
    assert encode.calls == 2
