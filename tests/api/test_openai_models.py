"""``/v1/models`` lists the remote providers' models when they are configured."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast

from tests.speech.remote.helpers import inline, stt_settings, translation_settings, tts_settings
from ustad.api.openai_compat import served_models
from ustad.remote_settings import RemoteTranslationSettings
from ustad.services import Services
from ustad.speech.fakes import FakeSynthesizer, FakeTranscriber, transcript_of
from ustad.speech.remote import RemoteEngines


def services(remote: RemoteEngines) -> Services:
    def heard(*_: Any) -> Any:
        return transcript_of("x")

    speech = SimpleNamespace(
        english_stt=FakeTranscriber(heard),
        multilingual_stt=FakeTranscriber(heard),
        voices={"en": FakeSynthesizer("en")},
        remote=remote,
    )
    return cast(Services, SimpleNamespace(speech=speech))


async def test_remote_models_are_listed_when_configured() -> None:
    remote = RemoteEngines.from_settings(
        stt_settings(model="large-v3"),
        tts_settings(model="kokoro"),
        translation_settings(),
        inline,
        max_speech_seconds=60,
    )
    try:
        models = {m["id"]: m for m in served_models(services(remote))}
    finally:
        await remote.aclose()
    assert models["remote:large-v3"]["ustad_tasks"] == ["transcription"]
    assert models["remote:kokoro"]["ustad_tasks"] == ["speech"]


async def test_no_remote_model_is_listed_without_providers() -> None:
    remote = RemoteEngines.from_settings(
        stt_settings(base_url=None),
        tts_settings(base_url=None),
        RemoteTranslationSettings(),
        inline,
        max_speech_seconds=60,
    )
    ids = [m["id"] for m in served_models(services(remote))]
    assert not any(i.startswith("remote:") for i in ids)
