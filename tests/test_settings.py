"""The settings tree: environment parsing, validation, the README table and the README's
example environment blocks."""

from __future__ import annotations

import json
import os
import re
import shlex
from typing import Any

import pytest
from pydantic import BaseModel, SecretStr, ValidationError

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
        ("USTAD_RUNTIME__EXECUTOR_WORKERS", "-1"),
        ("USTAD_SERVER__PORT", "not-a-port"),
        ("USTAD_TTS__MP3_QUALITY", "10"),
        ("USTAD_TTS__MP3_QUALITY", "-1"),
        ("USTAD_TTS__MP3_QUALITY", "fast"),
    ],
)
def test_bad_values_fail_at_start(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        Settings()


def test_readme_configuration_table_is_current() -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    assert settings_table() in readme, "run: .venv/bin/python scripts/settings_table.py"


_FENCED_SHELL = re.compile(r"^( *)```sh\n(.*?)^\1```", re.MULTILINE | re.DOTALL)


def readme_environment_blocks() -> list[dict[str, str]]:
    """Every ``sh`` block of the README made only of ``USTAD_*=value`` lines (comments
    allowed), as the variables a shell would set."""
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    blocks = []
    for match in _FENCED_SHELL.finditer(readme):
        words = shlex.split(match.group(2), comments=True)
        if words and all(re.fullmatch(r"USTAD_[A-Z0-9_]+=.*", word, re.DOTALL) for word in words):
            blocks.append(dict(word.split("=", 1) for word in words))
    return blocks


def _setting(settings: Settings, name: str) -> Any:
    """The value the variable ``name`` sets (``AttributeError`` for no such setting)."""
    value: Any = settings
    for part in name.removeprefix("USTAD_").lower().split("__"):
        if not isinstance(value, BaseModel) or part not in type(value).model_fields:
            raise AttributeError(f"{name}: no setting {part!r}")
        value = getattr(value, part)
    return value


def test_the_readmes_example_environments_are_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = readme_environment_blocks()
    # The remote providers' examples: speaches, vLLM, Ollama, OpenAI, another ustad.
    models = {m for block in blocks for k, m in block.items() if k.endswith("__MODEL")}
    assert {"Systran/faster-whisper-large-v3", "qwen2.5:7b", "gpt-4o-mini"} <= models
    assert len(blocks) >= 6
    for block in blocks:
        for name in [n for n in os.environ if n.startswith("USTAD_")]:
            monkeypatch.delenv(name)
        for name, value in block.items():
            monkeypatch.setenv(name, value)
        settings = Settings()  # a refused value fails here
        for name, value in block.items():
            found = _setting(settings, name)
            if isinstance(found, SecretStr):
                found = found.get_secret_value()
            expected = json.loads(value) if isinstance(found, dict | list) else value
            assert found == expected or str(found) == value, (name, found, value)
            if name.endswith("__BASE_URL"):
                # The providers post to paths under an OpenAI API root.
                assert value.endswith("/v1"), name


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
    assert baseline.tts.mp3_pieces is False and optimised.tts.mp3_pieces is True
    assert baseline.assessment.phone_support_min_overall == 0.0
    assert optimised.assessment.phone_support_min_overall > 0.0
    assert baseline.assessment.support_min_overall == 0.0


def test_tts_settings_give_each_format_its_bitrate() -> None:
    tts = TtsSettings(audio_format="opus", mp3_bitrate=96_000)
    assert (tts.bitrate("mp3"), tts.bitrate("opus"), tts.bitrate("wav")) == (96_000, 32_000, None)


def test_mp3_quality_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().tts.mp3_quality == 7
    monkeypatch.setenv("USTAD_TTS__MP3_QUALITY", "2")
    assert Settings().tts.mp3_quality == 2
