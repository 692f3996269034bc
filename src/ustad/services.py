"""What the app needs, built once in its lifespan and passed in (nothing global)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ustad.learn.processor import TurnPolicy, TurnProcessor
from ustad.learn.recorder import TurnRecorder
from ustad.learn.session import LearnContext
from ustad.learn.store_ops import StoreWriter
from ustad.runtime.audio_store import store_from_settings
from ustad.runtime.blas_threads import limit_blas_threads
from ustad.runtime.executor import EngineExecutor, InlineExecutor
from ustad.runtime.metrics import ServiceMetrics
from ustad.runtime.outbox import Outbox
from ustad.runtime.redis_client import redis_from_settings
from ustad.runtime.redis_tier import RedisTier
from ustad.runtime.speech_service import SpeechService
from ustad.settings import Settings
from ustad.speech.espeak_tts import EspeakSynthesizer
from ustad.speech.model_paths import (
    english_whisper_dir,
    multilingual_whisper_dir,
    piper_voice_path,
)
from ustad.speech.phones.aligner import PhoneAligner
from ustad.speech.phrasebank import PhraseBank
from ustad.speech.piper_tts import PiperSynthesizer
from ustad.speech.remote import RemoteEngines, RemoteUrduScript
from ustad.speech.speech_translator import WhisperSpeechTranslator
from ustad.speech.translation_memory import TranslationMemory
from ustad.speech.types import Language, ScriptNormalizer, Synthesizer, Translator
from ustad.speech.whisper import WhisperTranscriber
from ustad.store.database import Database
from ustad.store.repository import Repository

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger(__name__)


@dataclass
class Services:
    """The app's dependencies."""

    settings: Settings
    executor: EngineExecutor
    io_executor: EngineExecutor
    """The disk audio store's own small pool (file I/O never waits for the engines)."""
    speech: SpeechService
    processor: TurnProcessor
    phrases: PhraseBank
    database: Database
    repository: Repository
    outbox: Outbox
    """Learn-session writes the database did not take in time; replayed from the lifespan."""
    metrics: ServiceMetrics
    learn: LearnContext
    """What every learn session shares."""
    redis: Redis | None = None
    """The shared tier's pooled client (``USTAD_REDIS__URL``), or ``None`` in-process."""
    restore_blas: Callable[[], None] = field(default=lambda: None)
    """Puts back numpy's BLAS thread limits found before ``build_services`` set them."""

    @property
    def shared(self) -> RedisTier | None:
        """The shared tier (bounded commands, breaker, counters) the speech caches, the
        rate limits and the session cap use; ``None`` in-process."""
        return self.speech.shared

    async def close(self) -> None:
        """Release the database, the remote providers' clients, the Redis pool, the
        engine threads and the I/O threads; put numpy's BLAS threads back."""
        await self.database.close()
        await self.speech.aclose()
        if self.redis is not None:
            await self.redis.aclose()
        self.executor.shutdown()
        self.io_executor.shutdown()
        self.restore_blas()


def build_speech(
    settings: Settings,
    executor: EngineExecutor,
    phrases: PhraseBank,
    io: EngineExecutor | None = None,
    remote: RemoteEngines | None = None,
    shared: RedisTier | None = None,
) -> SpeechService:
    """Load the local engines named by the settings. Engine calls go through
    ``executor``, the audio store's files through ``io``, which the store needs
    (``ValueError`` without it when the settings enable the store). ``remote``'s
    engines are asked before the local ones; ``shared`` (Redis) backs the reply and
    translation caches."""
    if settings.audio_store.enabled and io is None:
        raise ValueError("the audio store needs an I/O pool of its own (io=...)")
    stt = settings.stt
    started = time.perf_counter()

    def whisper(
        model_dir: Path,
        setting: str,
        packaged_name: str,
        encodings_kept: int = 0,
        redo_low_logprob: bool = True,
    ) -> WhisperTranscriber:
        label = (
            packaged_name
            if setting.strip().lower() in ("packaged", packaged_name)
            else model_dir.name
        )
        return WhisperTranscriber(
            model_dir,
            compute_type=stt.compute_type,
            cpu_threads=stt.cpu_threads,
            beam_size=stt.beam_size,
            num_workers=settings.runtime.engine_workers,
            name=f"whisper:{label}",
            short_clip_window=stt.short_clip_window,
            redo_low_logprob=redo_low_logprob,
            encodings_kept=encodings_kept,
            english_window_max_seconds=stt.english_window_max_seconds,
        )

    multilingual_dir = multilingual_whisper_dir(stt.multilingual_model, stt.models_dir)
    multilingual = whisper(
        multilingual_dir,
        stt.multilingual_model,
        "base",
        # Only the multilingual model is asked several things of one utterance.
        encodings_kept=stt.encodings_kept,
    )
    english_dir = english_whisper_dir(stt.english_model, stt.models_dir)
    # English on the multilingual model itself (english_model "base"): one copy of the
    # weights serves both (English is decoded with language="en").
    english = (
        multilingual
        if english_dir.resolve() == multilingual_dir.resolve()
        else whisper(
            english_dir,
            stt.english_model,
            "tiny.en",
            redo_low_logprob=stt.english_low_logprob_redo,
        )
    )
    memory = TranslationMemory(phrases, threshold=settings.translation.match_threshold)
    translators: list[Translator] = [memory]
    normalizer: ScriptNormalizer = memory
    remote = remote or RemoteEngines()
    if remote.translation is not None:
        # After the phrase bank, before Whisper's speech translation.
        translators.append(remote.translation)
        normalizer = RemoteUrduScript(remote.translation, memory)
    if settings.translation.speech_fallback:
        whisper_translator = WhisperSpeechTranslator.from_settings(
            multilingual, executor.run, settings.translation
        )
        translators.append(whisper_translator)
        if remote.translation is not None:
            # One guard (and one English word list) for both kinds of translation.
            remote.translation.guard = whisper_translator.guard
    voices: dict[Language, Synthesizer] = {
        "en": PiperSynthesizer(piper_voice_path(settings.tts.english_voice), threads=1),
        "ur": EspeakSynthesizer(voice=settings.tts.urdu_voice),
    }
    log.info("speech engines loaded in %.1f s", time.perf_counter() - started)
    return SpeechService(
        executor=executor,
        english_stt=english,
        multilingual_stt=multilingual,
        voices=voices,
        translators=translators,
        normalizer=normalizer,
        tts=settings.tts,
        tts_cache_bytes=settings.runtime.tts_cache_bytes,
        translation_cache_entries=settings.runtime.translation_cache_entries,
        store=store_from_settings(settings.audio_store, io) if io is not None else None,
        concurrent=settings.runtime.mode == "optimised",
        engine_caches=(multilingual.encodings.stats,),
        remote=remote,
        shared=shared,
    )


def build_processor(settings: Settings, speech: SpeechService) -> TurnProcessor:
    """The turn processor, with the phone stage when an assessment setting asks for it
    (it loads in about 0.1 s and holds a 4.7 MB model; its pronouncing dictionary is
    read by ``build_services`` through ``TurnProcessor.warm_up``, and in baseline mode
    and by ``assemble``'s callers on the first attempt that needs it)."""
    assessment = settings.assessment
    phones = PhoneAligner() if assessment.phone_support or assessment.phones else None
    return TurnProcessor(speech, TurnPolicy.from_settings(settings), phones)


async def build_services(settings: Settings) -> Services:
    """Everything the app needs, with the real engines and the configured database."""
    baseline = settings.runtime.mode == "baseline"
    executor_type = InlineExecutor if baseline else EngineExecutor
    executor = executor_type(
        settings.runtime.engine_workers, oldest_turn_first=settings.runtime.oldest_turn_first
    )
    # Threads start on first use, so a disabled store costs nothing.
    io_executor = EngineExecutor(settings.runtime.io_workers, name="io")
    phrases = PhraseBank.load(settings.translation.phrase_bank)
    # The remote providers' pooled clients are made here, on the event loop, once.
    remote = RemoteEngines.from_settings(
        settings.remote_stt,
        settings.remote_tts,
        settings.remote_translation,
        executor.run,
        max_speech_seconds=settings.tts.max_speech_seconds,
    )
    redis = redis_from_settings(settings.redis)
    shared = RedisTier(redis, settings.redis) if redis is not None else None
    try:
        speech = await executor.run(
            lambda: build_speech(settings, executor, phrases, io_executor, remote, shared)
        )
    except BaseException:
        await remote.aclose()
        if redis is not None:
            await redis.aclose()
        raise
    database = Database.from_settings(settings.db)
    if settings.db.migrate_on_start:
        await database.migrate()
    services = assemble(settings, executor, io_executor, speech, phrases, database)
    services.redis = redis
    if not baseline:  # the naive design reads its dictionary on the first attempt
        await executor.run(services.processor.warm_up)
    # numpy's BLAS on as many threads per call as the engines (ustad.runtime.blas_threads).
    services.restore_blas = limit_blas_threads(settings.stt.cpu_threads)
    return services


def assemble(
    settings: Settings,
    executor: EngineExecutor,
    io_executor: EngineExecutor,
    speech: SpeechService,
    phrases: PhraseBank,
    database: Database,
) -> Services:
    """Wire the layers over already-built engines and database (tests pass fakes)."""
    processor = build_processor(settings, speech)
    repository = Repository(database)
    writer = StoreWriter(repository)
    outbox = Outbox(
        settings.db.outbox_dir,
        writer.write_entry,
        attempt_timeout=settings.db.statement_timeout_seconds,
        retry_max=settings.db.outbox_retry_max_seconds,
    )
    # Reads the speech layer's counters (executors included) and the outbox at scrape time.
    metrics = ServiceMetrics(speech=speech, outbox=outbox)
    return Services(
        settings=settings,
        executor=executor,
        io_executor=io_executor,
        speech=speech,
        processor=processor,
        phrases=phrases,
        database=database,
        repository=repository,
        outbox=outbox,
        metrics=metrics,
        learn=LearnContext(
            processor=processor,
            speech=speech,
            recorder=TurnRecorder(writer, outbox, timeout=settings.db.store_timeout_seconds),
            metrics=metrics,
            audio_base_url=settings.audio_store.public_base_url,
        ),
    )
