"""What the lifespan builds, in each runtime mode, on the real engines."""

from __future__ import annotations

from pathlib import Path

import pytest
from threadpoolctl import threadpool_info

from tests.conftest import REPO_ROOT
from ustad.runtime.executor import InlineExecutor
from ustad.services import build_services
from ustad.settings import Settings, SttSettings
from ustad.speech.whisper import WhisperTranscriber

pytestmark = pytest.mark.models


def settings_for(
    tmp_path: Path, mode: str, english_model: str = "packaged", **stt: object
) -> Settings:
    return Settings.model_validate(
        {
            "runtime": {"mode": mode},
            "db": {"url": f"sqlite+aiosqlite:///{tmp_path / 'ustad.db'}"},
            "stt": {
                "models_dir": str(REPO_ROOT / "var" / "models"),
                "english_model": english_model,
                **stt,
            },
            "audio_store": {"dir": str(tmp_path / "audio"), "pregenerate_phrases": False},
        }
    ).effective()


def blas_threads() -> set[int]:
    return {lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"}


async def test_optimised_services(tmp_path: Path) -> None:
    before = blas_threads()
    services = await build_services(settings_for(tmp_path, "optimised"))
    try:
        assert not isinstance(services.executor, InlineExecutor)
        assert services.speech.audio_cache.enabled and services.speech.store is not None
        assert services.speech.concurrent and services.processor.policy.concurrent
        # The disk store has threads of its own, apart from the engines'.
        assert services.speech.store.io is services.io_executor
        assert services.io_executor is not services.executor
        # Whisper base's encoder outputs are one of the listed caches, bounded by settings.
        caches = {cache.name: cache for cache in services.speech.stats().caches}
        assert caches["whisper_encodings"].max_entries == Settings().stt.encodings_kept
        # numpy's BLAS on the engines' one thread per call, until the services close.
        assert blas_threads() == {1}
        # The phone stage's dictionary is read before the first attempt needs it.
        assert services.processor.phones is not None
        assert services.processor.phones.pronouncer.loaded
    finally:
        await services.close()
    with pytest.raises(RuntimeError, match="shutdown"):
        await services.io_executor.run(lambda: None)
    assert blas_threads() == before


async def test_baseline_services_are_the_naive_design(tmp_path: Path) -> None:
    services = await build_services(settings_for(tmp_path, "baseline"))
    try:
        assert isinstance(services.executor, InlineExecutor)
        speech = services.speech
        assert not speech.audio_cache.enabled and not speech.segment_cache.enabled
        assert not speech.translation_cache.enabled and speech.store is None
        assert not speech.concurrent and not services.processor.policy.concurrent
        caches = {cache.name: cache for cache in speech.stats().caches}
        assert caches["whisper_encodings"].max_entries == 0
        phones = services.processor.phones
        assert phones is None or not phones.pronouncer.loaded  # read on first use
    finally:
        await services.close()


async def test_tiny_en_redoes_unsure_readings_when_set(tmp_path: Path) -> None:
    services = await build_services(
        settings_for(tmp_path, "optimised", english_low_logprob_redo=True)
    )
    try:
        english = services.speech.english_stt
        assert isinstance(english, WhisperTranscriber) and english.redo_low_logprob
    finally:
        await services.close()


@pytest.mark.parametrize("seconds", [None, 8.0])
async def test_both_engines_take_the_english_window_setting(
    tmp_path: Path, seconds: float | None
) -> None:
    stt = {} if seconds is None else {"english_window_max_seconds": seconds}
    services = await build_services(settings_for(tmp_path, "optimised", **stt))
    try:
        default = SttSettings.model_fields["english_window_max_seconds"].default
        expected = default if seconds is None else seconds
        for engine in (services.speech.english_stt, services.speech.multilingual_stt):
            assert isinstance(engine, WhisperTranscriber)
            assert engine.english_window_max_seconds == expected
    finally:
        await services.close()


@pytest.mark.parametrize("english_model", ["tiny.en", "base"])
async def test_the_english_model_is_chosen_by_a_setting(tmp_path: Path, english_model: str) -> None:
    services = await build_services(settings_for(tmp_path, "optimised", english_model))
    try:
        speech = services.speech
        assert speech.english_stt.name == f"whisper:{english_model}"
        # Base for English is the multilingual engine itself: one copy of the weights.
        assert (speech.english_stt is speech.multilingual_stt) is (english_model == "base")
        # tiny.en keeps an unsure short reading (stt.english_low_logprob_redo); base,
        # which also reads Urdu, redoes it.
        english, multilingual = speech.english_stt, speech.multilingual_stt
        assert isinstance(english, WhisperTranscriber)
        assert isinstance(multilingual, WhisperTranscriber)
        assert english.redo_low_logprob is (english_model == "base")
        assert multilingual.redo_low_logprob
    finally:
        await services.close()
