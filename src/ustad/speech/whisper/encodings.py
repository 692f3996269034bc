"""The memo of recent Whisper encoder outputs, as one of the project's ``MemoryCache``s.

The Urdu step asks one model three things of one utterance (its language, its Urdu
transcript and, off the phrase bank, its English), and faster-whisper encodes the
same features for each. The encoder is the larger part of each call (base, 30 s
window: about 0.75 s of 1.0-1.4 s), so the last few encoder outputs are kept, keyed
by a digest of the exact mel features, and a second request for identical features
reuses the first's output. A hit needs bit-identical features, so a reused output is
exactly what encoding again would give. An entry holds one window's output (base,
30 s: 1500 x 512 float32, 3 MiB). Two threads missing on the same features at once
both encode; the Urdu step asks its questions one after another, so that is rare.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ustad.caching import MemoryCache

CACHE_NAME = "whisper_encodings"
"""The cache's name in ``/v1/stats``, ``/health`` and ``/metrics``."""

EncoderCache = MemoryCache[bytes, Any]
"""Digest of the mel features -> CTranslate2 ``StorageView`` of the encoder output."""

_DTYPE_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2, "int8": 1, "int16": 2, "int32": 4}


def encoder_cache(kept: int) -> EncoderCache:
    """A cache of the last ``kept`` encoder outputs (0: keeps none), sized in bytes.

    Raises ``ValueError`` for a negative ``kept``.
    """
    if kept < 0:
        raise ValueError(f"encodings kept must be >= 0, got {kept}")
    return MemoryCache(CACHE_NAME, max_entries=kept, size_of=storage_bytes)


def encode_cached(cache: EncoderCache, features: Any, encode: Callable[[Any], Any]) -> Any:
    """``encode(features)``, or the output kept for identical features.

    ``features`` is a mel array (``n_mels`` x frames, any float dtype). With the cache
    off the features are not even hashed, and nothing is counted.
    """
    if not cache.enabled:
        return encode(features)
    return cache.get_or_compute_sync(features_digest(features), lambda: encode(features))


def features_digest(features: Any) -> bytes:
    """A 16-byte digest of the features' shape and float32 values."""
    array = np.ascontiguousarray(features, dtype=np.float32)
    digest = hashlib.blake2b(repr(array.shape).encode(), digest_size=16)
    digest.update(array.data)  # contiguous: hashed in place, not copied
    return digest.digest()


def storage_bytes(output: Any) -> int:
    """Bytes held by a CTranslate2 ``StorageView`` (0 for anything without a shape)."""
    shape = getattr(output, "shape", None)
    if shape is None:
        return 0
    dtype = str(getattr(output, "dtype", "float32")).rsplit(".", 1)[-1]
    return math.prod(int(n) for n in shape) * _DTYPE_BYTES.get(dtype, 4)
