"""The remote providers' settings: off by default, one environment variable to turn
each on, keys kept secret."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from ustad.settings import Settings


def test_every_provider_is_off_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("USTAD_REMOTE_TTS__BASE_URL", "")  # set but empty: off
    settings = Settings()
    assert settings.remote_stt.base_url is None
    assert settings.remote_tts.base_url is None
    assert settings.remote_translation.base_url is None


def test_providers_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("USTAD_REMOTE_STT__BASE_URL", "http://gpu-box:8000/v1")
    monkeypatch.setenv("USTAD_REMOTE_STT__API_KEY", "sk-secret")
    monkeypatch.setenv("USTAD_REMOTE_STT__MAX_CONNECTIONS", "4")
    monkeypatch.setenv("USTAD_REMOTE_TTS__VOICES", '{"en": "nova", "ur": "ur"}')
    monkeypatch.setenv("USTAD_REMOTE_TRANSLATION__MODEL", "qwen2.5:7b")
    settings = Settings()
    stt = settings.remote_stt
    assert (stt.base_url, stt.model, stt.max_connections) == (
        "http://gpu-box:8000/v1",
        "whisper-1",
        4,
    )
    assert stt.api_key is not None and stt.api_key.get_secret_value() == "sk-secret"
    assert "sk-secret" not in repr(settings) and "sk-secret" not in settings.model_dump_json()
    assert settings.remote_tts.voices == {"en": "nova", "ur": "ur"}
    assert settings.remote_tts.max_response_bytes == 16 * 1024 * 1024
    assert settings.remote_translation.model == "qwen2.5:7b"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("USTAD_REMOTE_STT__TIMEOUT_SECONDS", "0"),
        ("USTAD_REMOTE_TTS__RETRIES", "-1"),
        ("USTAD_REMOTE_TRANSLATION__BREAKER_FAILURES", "0"),
        ("USTAD_REMOTE_STT__MAX_RESPONSE_BYTES", "10"),
        ("USTAD_REMOTE_STT__NO_SUCH_SETTING", "1"),
        ("USTAD_REMOTE_STT__BASE_URL", "gpu-box:8000/v1"),
        ("USTAD_REMOTE_TTS__BASE_URL", "ftp://gpu-box/v1"),
    ],
)
def test_bad_values_fail_at_start(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        Settings()
