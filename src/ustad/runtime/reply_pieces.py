"""MP3 replies spliced from cached per-segment MP3 (``ustad.speech.mp3_pieces``).

Each piece of a reply (one voice call's text) is encoded once, at the reply settings
(rate, bitrate, LAME quality, gap), and kept in memory; a reply is its pieces' bytes
joined. The fixed phrases around every learner's sentence are then never encoded again,
and a turn encodes only what it newly synthesised.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from ustad.caching import CacheStats, MemoryCache, cache_key
from ustad.runtime.audio_store import StoredAudio
from ustad.runtime.executor import EngineExecutor
from ustad.runtime.speech_parts import StandIn
from ustad.runtime.timing import joining
from ustad.settings import TtsSettings
from ustad.speech.mp3_pieces import encode_mp3_piece
from ustad.speech.types import Pcm

__all__ = ["Mp3Piece", "Mp3Pieces"]


@dataclass(frozen=True)
class Mp3Piece:
    """One piece's bare MP3 frames (with the pause after it), and whether a local voice
    stood in for a remote one that failed (then it is used once, never kept)."""

    data: bytes
    stand_in: bool = False


class Mp3Pieces:
    """The cache of encoded pieces and the joining of replies from them.

    ``max_bytes`` bounds the cache (about 8 kB per second of speech at 64 kbit/s).
    Encoding runs on ``executor``; each encoding is counted as ``encode_mp3_piece`` in
    ``engine_calls``.
    """

    def __init__(
        self,
        executor: EngineExecutor,
        tts: TtsSettings,
        *,
        max_bytes: int,
        engine_calls: Counter[str],
    ) -> None:
        self.executor = executor
        self.tts = tts
        self.engine_calls = engine_calls
        self.cache: MemoryCache[str, Mp3Piece] = MemoryCache(
            "tts_mp3_pieces", size_of=lambda piece: len(piece.data), max_bytes=max_bytes
        )

    async def piece(
        self, voice_key: Sequence[object], said: Callable[[], Awaitable[Pcm]]
    ) -> Mp3Piece:
        """The encoded piece for ``voice_key`` (engine, voice, text, speed: what keys its
        PCM), from the cache or by encoding what ``said`` returns."""
        tts = self.tts
        key = cache_key(
            "mp3_piece",
            *voice_key,
            tts.sample_rate,
            tts.mp3_bitrate,
            tts.mp3_quality,
            tts.gap_seconds,
        )

        async def compute() -> Mp3Piece:
            pcm = await said()
            self.engine_calls["encode_mp3_piece"] += 1
            data = await self.executor.run(
                lambda: encode_mp3_piece(
                    pcm,
                    sample_rate=tts.sample_rate,
                    bitrate=tts.mp3_bitrate,
                    quality=tts.mp3_quality,
                    gap_seconds=tts.gap_seconds,
                )
            )
            return Mp3Piece(data, isinstance(pcm, StandIn))

        piece = await joining(lambda c: self.cache.get_or_compute(key, c), compute)
        if piece.stand_in:
            self.cache.discard(key)
        return piece

    @staticmethod
    async def join(pieces: Sequence[Mp3Piece]) -> StoredAudio:
        """The reply made of ``pieces``, in order (hashed on a worker thread)."""
        data = b"".join(piece.data for piece in pieces)
        return await asyncio.to_thread(StoredAudio.of, data, "mp3")

    def stats(self) -> CacheStats:
        """The piece cache's counters."""
        return self.cache.stats()
