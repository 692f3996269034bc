"""The async face of the speech engines: executor, caches and call counts.

Everything above this layer awaits; everything below it blocks. Each blocking
engine call goes through the one bounded ``EngineExecutor`` (the disk store's
file I/O through the store's own pool). Synthesised speech is
cached at two levels: each segment's PCM (keyed by engine, voice, text and
speed), so fixed phrases such as "Now repeat after me." are synthesised once
whatever sentence they surround, and each whole reply's encoded audio (keyed
by its segments and the output format), so a repeated reply costs a lookup.
Behind the reply cache sits the optional disk ``AudioStore`` (memory, then disk,
then synthesis), which survives restarts and gives each reply a content address.
Translations are cached by source text. With the shared tier (``shared``: Redis),
replies and translations are also shared by every worker and computed once among
them (``runtime/shared_cache.py``): memory, then disk, then Redis, then synthesis.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence

from ustad.caching import CacheStats, MemoryCache, cache_key
from ustad.runtime.audio_store import AudioStore, StoredAudio
from ustad.runtime.executor import EngineExecutor
from ustad.runtime.redis_tier import RedisTier
from ustad.runtime.reply_pieces import Mp3Piece, Mp3Pieces
from ustad.runtime.shared_cache import SharedCache, through
from ustad.runtime.shared_codec import AudioCodec, TranslationCodec
from ustad.runtime.speech_parts import Answer, StandIn, spoken_pieces
from ustad.runtime.speech_stats import SpeechStats
from ustad.runtime.timing import joining
from ustad.settings import AudioFormat, TtsSettings
from ustad.speech.audio import concatenate, decode_audio, encode_audio, speech_seconds
from ustad.speech.remote import RemoteEngines
from ustad.speech.types import (
    Audio,
    Language,
    Pcm,
    PromptedWanted,
    ScriptNormalizer,
    Segment,
    SpokenText,
    Synthesizer,
    Task,
    Transcriber,
    Transcript,
    Translation,
    TranslationRequest,
    Translator,
    WordSupport,
)
from ustad.vocabulary import LanguageGuess

log = logging.getLogger(__name__)

RENDERING = 3
"""Bumped whenever the same text starts to sound different (2: text said in bounded
pieces; Urdu-script digits spoken; 3: English said in its spoken form by
``ustad.text``: numbers, currency, units, abbreviations, no markup or emoji), so replies
stored on disk before are not served."""


class SpeechService:
    """Decoding, recognition, translation and synthesis, never on the event loop."""

    def __init__(
        self,
        *,
        executor: EngineExecutor,
        english_stt: Transcriber,
        multilingual_stt: Transcriber,
        voices: Mapping[Language, Synthesizer],
        translators: Sequence[Translator],
        normalizer: ScriptNormalizer,
        tts: TtsSettings,
        tts_cache_bytes: int,
        translation_cache_entries: int,
        store: AudioStore | None = None,
        concurrent: bool = True,
        engine_caches: Sequence[Callable[[], CacheStats]] = (),
        remote: RemoteEngines | None = None,
        shared: RedisTier | None = None,
    ) -> None:
        self.executor = executor
        self.remote = remote or RemoteEngines()
        """Remote providers asked before the local engines (none configured by default)."""
        self.store = store
        self.english_stt = english_stt
        self.multilingual_stt = multilingual_stt
        self.voices = dict(voices)
        self.translators = tuple(translators)
        self.normalizer = normalizer
        self.tts = tts
        """How replies are encoded: default format, bitrates, sample rate, gap."""
        self.concurrent = concurrent
        """Synthesise a reply's segments at the same time (off only in baseline mode)."""
        self.engine_caches = tuple(engine_caches)
        """Snapshots of caches inside the engines (Whisper's encodings), for the stats."""
        self.engine_calls: Counter[str] = Counter()
        self.requests: Counter[str] = Counter()
        """What callers asked for, before any cache: ``tts_replies``, ``tts_segments``
        (segments of those replies) and ``translation``; set against ``engine_calls``
        it shows the share of requests the engines actually served."""
        # A quarter of the budget for segments, a sixteenth for encoded MP3 pieces, the
        # rest for whole encoded replies.
        self.segment_cache: MemoryCache[str, Pcm] = MemoryCache(
            "tts_segments", size_of=lambda pcm: pcm.nbytes, max_bytes=tts_cache_bytes // 4
        )
        self.audio_cache: MemoryCache[str, StoredAudio] = MemoryCache(
            "tts_audio",
            size_of=lambda audio: len(audio.data),
            max_bytes=tts_cache_bytes - tts_cache_bytes // 4 - tts_cache_bytes // 16,
        )
        self.mp3_pieces = Mp3Pieces(
            executor, tts, max_bytes=tts_cache_bytes // 16, engine_calls=self.engine_calls
        )
        """Encoded pieces MP3 replies are joined from (``tts.mp3_pieces``)."""
        self.translation_cache: MemoryCache[str, Answer] = MemoryCache(
            "translation", size_of=Answer.size, max_entries=translation_cache_entries
        )
        self.shared = shared
        """The Redis tier behind the reply and translation caches (``None``: in-process)."""
        self.shared_audio: SharedCache[StoredAudio] | None = None
        self.shared_translations: SharedCache[Answer] | None = None
        if shared is not None:
            self.shared_audio = SharedCache("tts_audio", shared, AudioCodec())
            self.shared_translations = SharedCache("translation", shared, TranslationCodec())

    # --- input --------------------------------------------------------------

    async def decode(self, data: bytes, *, max_seconds: float, format_hint: str | None) -> Audio:
        """Decode an utterance to 16 kHz mono (raises the decoder's errors)."""
        self.engine_calls["decode"] += 1
        return await self.executor.run(
            lambda: decode_audio(data, max_seconds=max_seconds, format_hint=format_hint)
        )

    async def speech_seconds(self, audio: Audio) -> float:
        """Seconds of detected speech (voice activity detection)."""
        self.engine_calls["vad"] += 1
        return await self.executor.run(lambda: speech_seconds(audio))

    async def transcribe(
        self,
        audio: Audio,
        *,
        english: bool,
        language: str | None = None,
        task: Task = "transcribe",
        word_timestamps: bool = False,
        quick: bool = False,
    ) -> Transcript:
        """Recognise with the English model (``english=True``) or the multilingual one
        (``quick``: ``Transcriber.transcribe``'s cheapest reading); a remote recogniser,
        when configured, transcribes first (``None`` from it: local)."""
        engine = self.english_stt if english else self.multilingual_stt
        model = "english" if english else "multilingual"
        if self.remote.stt is not None and task == "transcribe":
            self.engine_calls[f"remote_stt_{model}"] += 1
            heard = await self.remote.stt.transcribe(
                audio, language=language, word_timestamps=word_timestamps
            )
            if heard is not None:
                return heard
        self.engine_calls[f"stt_{model}_{task}{'_quick' if quick else ''}"] += 1
        return await self.executor.run(
            lambda: engine.transcribe(
                audio, language=language, task=task, word_timestamps=word_timestamps, quick=quick
            )
        )

    async def target_support(
        self, audio: Audio, text: str, *, english: bool, prompted: PromptedWanted | None = None
    ) -> tuple[WordSupport, ...]:
        """A recogniser's forced reading of the English ``text`` on ``audio``: per
        whitespace word of ``text``, how well the audio supports it
        (``Transcriber.target_support``, with its ``prompted`` callback), by the English
        model (``english=True``) or the multilingual one."""
        engine = self.english_stt if english else self.multilingual_stt
        self.engine_calls[f"stt_{'english' if english else 'multilingual'}_support"] += 1
        return await self.executor.run(
            lambda: engine.target_support(audio, text, prompted=prompted)
        )

    async def detect_language(
        self, audio: Audio, *, short_window: bool = False, english_attempt: bool = False
    ) -> LanguageGuess:
        """Language id with the multilingual model (``short_window``: the quick look;
        ``english_attempt``: of a repeat attempt, in its English readings' window)."""
        self.engine_calls["language_id_short" if short_window else "language_id"] += 1
        stt = self.multilingual_stt
        return await self.executor.run(
            lambda: stt.detect_language(
                audio, short_window=short_window, english_attempt=english_attempt
            )
        )

    # --- translation ----------------------------------------------------------

    async def translate(self, text: str, audio: Audio | None = None) -> Translation | None:
        """Urdu to English by the first provider that answers (cached by text; "no
        translation" too, except for a request with ``audio``)."""
        key = cache_key("translate", "ur", "en", text.strip())
        request = TranslationRequest(text=text, audio=audio)
        self.requests["translation"] += 1

        async def ask_providers() -> Answer:
            for translator in self.translators:
                self.engine_calls[f"translate_{translator.name}"] += 1
                result = await translator.translate(request)
                if result is not None and result.text.strip():
                    return Answer(result)
            return Answer(None)

        # Learners saying the same sentence at once share one provider call.
        # Learners on other workers too, with the shared tier; a refusal of a recording
        # is not shared (see below).
        answer = await joining(
            lambda compute: self.translation_cache.get_or_compute(key, compute),
            lambda: through(
                self.shared_translations,
                key,
                ask_providers,
                lambda a: a.translation is not None or audio is None,
            ),
        )
        if answer.translation is None and audio is not None:
            # A speech translation refused depends on how it was said, and the learner is
            # asked to say it again: the next recording is heard, not this answer.
            self.translation_cache.discard(key)
        return answer.translation

    async def to_urdu_script(self, text: str) -> str:
        """The transcript in clean Urdu script."""
        return await self.normalizer.to_urdu_script(text)

    # --- output ---------------------------------------------------------------

    async def speak(
        self, spoken: SpokenText, *, fmt: AudioFormat | None = None, speed: float = 1.0
    ) -> bytes:
        """The reply's audio, each segment in its language's voice, encoded."""
        return (await self.speak_stored(spoken, fmt=fmt, speed=speed)).data

    async def speak_stored(
        self, spoken: SpokenText, *, fmt: AudioFormat | None = None, speed: float = 1.0
    ) -> StoredAudio:
        """The reply's audio with its digest: memory cache, then disk store, then the shared
        tier (another worker's synthesis), then synthesis."""
        out_format = fmt or self.tts.audio_format
        key = self._reply_key(spoken, out_format, speed)
        self.requests["tts_replies"] += 1
        self.requests["tts_segments"] += len(spoken.segments)

        stand_in = False

        async def render() -> StoredAudio:
            nonlocal stand_in
            audio, stand_in = await self._render(
                spoken.segments, out_format, speed, sequential=not self.concurrent
            )
            return audio

        async def load_or_render() -> StoredAudio:
            if self.store is not None:
                found = await self.store.get(key)
                if found is not None:
                    return found
            # Then another worker's synthesis (Redis), then our own; a stand-in's is not shared.
            audio = await through(self.shared_audio, key, render, lambda _: not stand_in)
            return audio if stand_in else await self._keep(key, audio)

        audio = await joining(
            lambda compute: self.audio_cache.get_or_compute(key, compute), load_or_render
        )
        if stand_in:
            self.audio_cache.discard(key)
        return audio

    async def prestore(
        self, spoken: SpokenText, *, fmt: AudioFormat | None = None, speed: float = 1.0
    ) -> bool:
        """Put a reply in the disk store only (background pre-generation).

        Returns False if it was there already (or a local voice stood in for a remote
        one that failed: not stored). The memory cache is left alone so
        that a thousand prompts nobody has asked for yet do not evict the hot
        replies; segments are synthesised one after another so the job holds at
        most one executor thread at a time.
        """
        if self.store is None:
            raise RuntimeError("pre-generation to disk needs an audio store")
        out_format = fmt or self.tts.audio_format
        key = self._reply_key(spoken, out_format, speed)
        if await self.store.contains(key):
            return False
        audio, stand_in = await self._render(spoken.segments, out_format, speed, sequential=True)
        if stand_in:
            return False
        await self.store.put(key, audio)
        return True

    def _reply_key(self, spoken: SpokenText, fmt: AudioFormat, speed: float) -> str:
        return cache_key(
            "reply",
            RENDERING,
            fmt,
            self.tts.bitrate(fmt),
            (self.tts.mp3_quality, self.tts.mp3_pieces) if fmt == "mp3" else None,
            self.tts.sample_rate,
            speed,
            tuple(self._voice_id(s) for s in spoken.segments),
        )

    async def _keep(self, key: str, audio: StoredAudio) -> StoredAudio:
        """Write fresh audio to the disk store; a disk failure only costs the URL."""
        if self.store is None:
            return audio
        try:
            return await self.store.put(key, audio)
        except OSError:
            log.exception("could not write reply audio to the store at %s", self.store.root)
            return audio

    async def synthesize_segment(self, segment: Segment, *, speed: float = 1.0) -> Pcm:
        """One segment's PCM (cached by engine, voice, text and speed); a remote voice
        for the segment's language, when configured, speaks first (``None``: local)."""
        voice = self.voices[segment.language]
        key = cache_key("segment", *self._voice_id(segment), speed)
        remote = self.remote.tts

        remote_voice = remote is not None and remote.voice_for(segment.language) is not None

        async def compute() -> Pcm:
            if remote is not None and remote_voice:
                self.engine_calls["remote_tts"] += 1
                said = await remote.synthesize(segment.text, segment.language, speed=speed)
                if said is not None:
                    return said
            self.engine_calls[f"tts_{voice.engine}"] += 1
            pcm = await self.executor.run(lambda: voice.synthesize(segment.text, speed=speed))
            return StandIn(pcm.samples, pcm.sample_rate) if remote_voice else pcm

        pcm = await joining(lambda c: self.segment_cache.get_or_compute(key, c), compute)
        if isinstance(pcm, StandIn):
            self.segment_cache.discard(key)
        return pcm

    async def pregenerate(self, replies: Iterable[SpokenText]) -> int:
        """Synthesise replies ahead of time (start-up); returns how many were new."""
        fresh = 0
        for spoken in replies:
            before = self.audio_cache.stats().entries
            await self.speak(spoken)
            fresh += self.audio_cache.stats().entries - before
        return fresh

    async def _render(
        self,
        segments: Sequence[Segment],
        fmt: AudioFormat,
        speed: float,
        *,
        sequential: bool = False,
    ) -> tuple[StoredAudio, bool]:
        """The segments said and encoded, and whether a local voice stood in for a remote
        one (then the audio is not to be kept)."""
        # Each segment is said in bounded pieces: one engine call per piece, none long.
        # The pieces are cut from the spoken form, so no cut parts "No. 2" from its number.
        # The spoken form is plain CPU work that grows with the text (0.2 s for 4096
        # characters of amounts): a worker thread does it, never the event loop.
        segments = await asyncio.to_thread(spoken_pieces, segments, self.tts.max_chunk_chars)
        if fmt == "mp3" and self.tts.mp3_pieces:
            return await self._splice(segments, speed, sequential=sequential)
        if sequential:
            parts = [await self.synthesize_segment(s, speed=speed) for s in segments]
        else:
            parts = await asyncio.gather(
                *(self.synthesize_segment(s, speed=speed) for s in segments)
            )
        self.engine_calls[f"encode_{fmt}"] += 1
        tts = self.tts

        def encode() -> StoredAudio:
            pcm = concatenate(parts, sample_rate=tts.sample_rate, gap_seconds=tts.gap_seconds)
            # Hashed here, on the worker thread, so the event loop never hashes audio.
            data = encode_audio(pcm, fmt, bitrate=tts.bitrate(fmt), mp3_quality=tts.mp3_quality)
            return StoredAudio.of(data, fmt)

        stand_in = any(isinstance(part, StandIn) for part in parts)
        return await self.executor.run(encode), stand_in

    async def _splice(
        self, segments: Sequence[Segment], speed: float, *, sequential: bool
    ) -> tuple[StoredAudio, bool]:
        """An MP3 reply joined from its pieces' cached MP3 (see ``reply_pieces``)."""

        def piece(segment: Segment) -> Awaitable[Mp3Piece]:
            return self.mp3_pieces.piece(
                (*self._voice_id(segment), speed),
                lambda: self.synthesize_segment(segment, speed=speed),
            )

        if sequential:
            pieces = [await piece(s) for s in segments]
        else:
            pieces = await asyncio.gather(*(piece(s) for s in segments))
        self.engine_calls["join_mp3"] += 1
        audio = await Mp3Pieces.join(pieces)
        return audio, any(p.stand_in for p in pieces)

    def _voice_id(self, segment: Segment) -> tuple[str, str, str]:
        voice = self.voices[segment.language]
        remote = self.remote.tts.cache_id(segment.language) if self.remote.tts else None
        # A remote voice is part of the key: its speech is not the local voice's.
        engine = voice.engine if remote is None else f"{voice.engine}|remote:{remote}"
        return (engine, voice.voice, segment.text)

    async def aclose(self) -> None:
        """Close the remote providers' pooled clients (once, at shutdown)."""
        await self.remote.aclose()

    def stats(self) -> SpeechStats:
        """Engine call and request counts, cache statistics, engine and I/O pool counters."""
        return SpeechStats(
            engine_calls=dict(self.engine_calls),
            requests=dict(self.requests),
            caches=(
                self.segment_cache.stats(),
                self.audio_cache.stats(),
                self.translation_cache.stats(),
                self.mp3_pieces.stats(),
                *(snapshot() for snapshot in self.engine_caches),
            ),
            executor=self.executor.stats(),
            io_executor=self.store.io.stats() if self.store is not None else None,
            audio_store=self.store.stats() if self.store is not None else None,
            shared_caches=tuple(
                cache.stats()
                for cache in (self.shared_audio, self.shared_translations)
                if cache is not None
            ),
            redis=self.shared.stats() if self.shared is not None else None,
        )
