"""What the app needs, built once in its lifespan and passed in (nothing global)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

from ustad.runtime.audio_store import store_from_settings
from ustad.runtime.executor import EngineExecutor, InlineExecutor
from ustad.runtime.metrics import ServiceMetrics
from ustad.runtime.speech_service import AudioOutput, SpeechService
from ustad.settings import Settings
from ustad.speech.espeak_tts import EspeakSynthesizer
from ustad.speech.model_paths import (
    english_whisper_dir,
    multilingual_whisper_dir,
    piper_voice_path,
)
from ustad.speech.piper_tts import PiperSynthesizer
from ustad.speech.speech_translator import WhisperSpeechTranslator
from ustad.speech.translation_memory import TranslationMemory
from ustad.speech.types import Language, Synthesizer, Translator
from ustad.speech.whisper import WhisperTranscriber
from ustad.store.database import Database
from ustad.store.repository import Repository
from ustad.tutor.phrasebank import PhraseBank
from ustad.tutor.turns import TurnPolicy, TurnProcessor

log = logging.getLogger(__name__)


@dataclass
class Services:
    """The app's dependencies."""

    settings: Settings
    executor: EngineExecutor
    speech: SpeechService
    processor: TurnProcessor
    phrases: PhraseBank
    database: Database
    repository: Repository
    metrics: ServiceMetrics

    async def close(self) -> None:
        """Release the database and the engine threads."""
        await self.database.close()
        self.executor.shutdown()


def turn_policy(settings: Settings) -> TurnPolicy:
    """The turn-processing knobs from settings."""
    return TurnPolicy(
        max_audio_seconds=settings.limits.max_audio_seconds,
        min_speech_seconds=settings.limits.min_speech_seconds,
        urdu_languages=tuple(settings.stt.urdu_languages),
        english_detect_threshold=settings.stt.english_detect_threshold,
        word_timestamps=settings.stt.word_timestamps,
        pass_mark=settings.assessment.pass_mark,
        low_confidence=settings.assessment.low_confidence,
        max_turns_in_flight=settings.runtime.max_turns_in_flight,
        concurrent=settings.runtime.mode == "optimised",
        quick_language_id=settings.stt.short_clip_window,
    )


def audio_output(settings: Settings) -> AudioOutput:
    """How replies are encoded, from settings."""
    tts = settings.tts
    return AudioOutput(
        format=tts.audio_format,
        mp3_bitrate=tts.mp3_bitrate,
        opus_bitrate=tts.opus_bitrate,
        sample_rate=tts.sample_rate,
        gap_seconds=tts.gap_seconds,
    )


def build_speech(
    settings: Settings, executor: EngineExecutor, phrases: PhraseBank
) -> SpeechService:
    """Load the local engines named by the settings."""
    stt = settings.stt
    started = time.perf_counter()

    def whisper(
        model_dir: Path, setting: str, packaged_name: str, encodings_kept: int = 0
    ) -> WhisperTranscriber:
        label = packaged_name if setting == "packaged" else model_dir.name
        return WhisperTranscriber(
            model_dir,
            compute_type=stt.compute_type,
            cpu_threads=stt.cpu_threads,
            beam_size=stt.beam_size,
            num_workers=settings.runtime.executor_workers,
            name=f"whisper:{label}",
            short_clip_window=stt.short_clip_window,
            encodings_kept=encodings_kept,
        )

    english = whisper(english_whisper_dir(stt.english_model), stt.english_model, "tiny.en")
    multilingual = whisper(
        multilingual_whisper_dir(stt.multilingual_model, stt.models_dir),
        stt.multilingual_model,
        "base",
        # Only the multilingual model is asked several things of one utterance.
        encodings_kept=stt.encodings_kept,
    )
    memory = TranslationMemory(phrases, threshold=settings.translation.match_threshold)
    translators: list[Translator] = [memory]
    if settings.translation.speech_fallback:
        translators.append(WhisperSpeechTranslator(multilingual, executor.run))
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
        normalizer=memory,
        output=audio_output(settings),
        tts_cache_bytes=settings.runtime.tts_cache_bytes,
        translation_cache_entries=settings.runtime.translation_cache_entries,
        store=store_from_settings(settings.audio_store, executor),
        concurrent=settings.runtime.mode == "optimised",
        engine_caches=(multilingual.encodings.stats,),
    )


async def build_services(settings: Settings) -> Services:
    """Everything the app needs, with the real engines and the configured database."""
    baseline = settings.runtime.mode == "baseline"
    executor_type = InlineExecutor if baseline else EngineExecutor
    executor = executor_type(settings.runtime.executor_workers)
    phrases = PhraseBank.load(settings.translation.phrase_bank)
    speech = await executor.run(lambda: build_speech(settings, executor, phrases))
    database = Database(settings.db.url, echo=settings.db.echo)
    if settings.db.migrate_on_start:
        await database.migrate()
    return Services(
        settings=settings,
        executor=executor,
        speech=speech,
        processor=TurnProcessor(speech, turn_policy(settings)),
        phrases=phrases,
        database=database,
        repository=Repository(database),
        # Reads the speech layer's and executor's counters at scrape time.
        metrics=ServiceMetrics(speech=speech, executor=executor),
    )
