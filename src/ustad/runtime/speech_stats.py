"""The speech layer's counters: one snapshot for ``/health``, ``/v1/stats`` and
``/metrics`` (kept apart from ``speech_service`` to keep that module small)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ustad.caching import CacheStats
from ustad.runtime.audio_store import AudioStoreStats
from ustad.runtime.executor import ExecutorStats
from ustad.runtime.redis_tier import RedisStats
from ustad.runtime.shared_cache import SharedCacheStats
from ustad.stat_fields import record, records, tally

__all__ = ["SpeechStats"]


@dataclass(frozen=True)
class SpeechStats:
    """Counters of the speech layer: the one source of ``/health``, ``/v1/stats`` and
    ``/metrics`` (each field's marker says how it is shown; see ``ustad.stat_fields``)."""

    engine_calls: Mapping[str, int] = field(
        metadata=tally("ustad_engine_calls", "kind", "Blocking engine calls made, by kind.")
    )
    requests: Mapping[str, int] = field(
        metadata=tally(
            "ustad_speech_requests",
            "kind",
            "Speech work asked for before any cache (tts_replies, tts_segments, translation).",
        )
    )
    caches: tuple[CacheStats, ...] = field(
        metadata=records(CacheStats, "ustad_cache", label="cache")
    )
    """The service's caches, then the engines' (``engine_caches``)."""
    executor: ExecutorStats = field(
        metadata=record(ExecutorStats, "ustad_executor", doc="engine executor")
    )
    """The engine executor."""
    io_executor: ExecutorStats | None = field(
        metadata=record(ExecutorStats, "ustad_io_executor", doc="audio store I/O pool")
    )
    """The disk audio store's I/O pool (``None`` without a store)."""
    audio_store: AudioStoreStats | None = field(
        default=None, metadata=record(AudioStoreStats, "ustad_audio_store", doc="disk tier")
    )
    """The disk audio store of replies (``None`` without a store)."""
    shared_caches: tuple[SharedCacheStats, ...] = field(
        default=(), metadata=records(SharedCacheStats, "ustad_shared_cache", label="cache")
    )
    """The caches' Redis tier (none without ``USTAD_REDIS__URL``)."""
    redis: RedisStats | None = field(
        default=None, metadata=record(RedisStats, "ustad_redis", doc="shared tier")
    )
    """This worker's Redis commands (``None`` without ``USTAD_REDIS__URL``)."""
