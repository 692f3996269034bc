"""The settings tree: environment parsing, validation, and the README table."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from tests.conftest import REPO_ROOT
from ustad.settings import Settings, TtsSettings, settings_table


def test_nested_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("USTAD_STT__CPU_THREADS", "4")
    monkeypatch.setenv("USTAD_TTS__AUDIO_FORMAT", "opus")
    monkeypatch.setenv("USTAD_STT__URDU_LANGUAGES", '["ur"]')
    monkeypatch.setenv("USTAD_LOG_LEVEL", "debug")
    settings = Settings()
    assert settings.stt.cpu_threads == 4
    assert settings.tts.audio_format == "opus"
    assert settings.stt.urdu_languages == ["ur"]
    assert settings.log_level == "DEBUG"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("USTAD_TTS__AUDIO_FORMAT", "aac"),
        ("USTAD_ASSESSMENT__PASS_MARK", "120"),
        ("USTAD_RUNTIME__EXECUTOR_WORKERS", "0"),
        ("USTAD_SERVER__PORT", "not-a-port"),
    ],
)
def test_bad_values_fail_at_start(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        Settings()


def test_readme_configuration_table_is_current() -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    assert settings_table() in readme, "run: .venv/bin/python scripts/settings_table.py"


def test_baseline_mode_turns_every_optimisation_off() -> None:
    optimised = Settings()
    assert optimised.effective() is optimised
    baseline = Settings.model_validate({"runtime": {"mode": "baseline"}}).effective()
    assert baseline.runtime.tts_cache_bytes == 0
    assert baseline.runtime.translation_cache_entries == 0
    assert baseline.runtime.pregenerate is False
    assert baseline.audio_store.enabled is False
    assert baseline.audio_store.pregenerate_phrases is False
    assert baseline.stt.short_clip_window is False


def test_tts_settings_give_each_format_its_bitrate() -> None:
    tts = TtsSettings(audio_format="opus", mp3_bitrate=96_000)
    assert (tts.bitrate("mp3"), tts.bitrate("opus"), tts.bitrate("wav")) == (96_000, 32_000, None)
