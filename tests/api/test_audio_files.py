"""Stored reply audio over real HTTP: ``audio_url`` on messages, immutable serving, restarts."""

from __future__ import annotations

import asyncio
import hashlib
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.api.conftest import (
    RunningApp,
    Script,
    connect,
    fake_services_factory,
    make_settings,
    serve,
)
from ustad.app import create_app
from ustad.runtime.audio_store import store_from_settings
from ustad.services import Services
from ustad.settings import AudioStoreSettings, Settings
from ustad.speech.fakes import FakeSynthesizer
from ustad.speech.phrasebank import PhraseBank
from ustad.tutor.texts import fixed_segments

IMMUTABLE = "public, max-age=31536000, immutable"


def stored_app(settings: Settings, script: Script, phrases: PhraseBank | None = None) -> FastAPI:
    """The fake-engine app with the disk store the settings describe."""
    build = fake_services_factory(script)

    async def build_with_store(resolved: Settings) -> Services:
        services = await build(resolved)
        services.speech.store = store_from_settings(resolved.audio_store, services.io_executor)
        if phrases is not None:
            services.phrases = phrases
        return services

    return create_app(settings, services_factory=build_with_store)


def store_settings(tmp_path: Path, **audio_store: Any) -> Settings:
    settings = make_settings(tmp_path)
    options = {"dir": tmp_path / "audio", "pregenerate_phrases": False, **audio_store}
    return settings.model_copy(update={"audio_store": AudioStoreSettings(**options)})


def voices(app: FastAPI) -> list[FakeSynthesizer]:
    services: Services = app.state.services
    found = list(services.speech.voices.values())
    assert all(isinstance(v, FakeSynthesizer) for v in found)
    return [v for v in found if isinstance(v, FakeSynthesizer)]


@pytest.fixture
def stored(tmp_path: Path) -> Iterator[tuple[RunningApp, FastAPI]]:
    settings = store_settings(tmp_path)
    script = Script()
    app = stored_app(settings, script)
    with serve(app) as address:
        yield RunningApp(address, settings, script), app


async def you_said(address: str, utterance: bytes) -> tuple[dict[str, Any], bytes]:
    """One Urdu utterance answered (decoding and VAD are real, the recognisers fakes)."""
    async with connect(address) as client:
        await client.say(utterance)
        message = await client.receive()
    assert message.step == "you_said_audio", message.data
    assert message.audio is not None
    return message.data, message.audio


def raw_status(address: str, target: str) -> tuple[int, bytes]:
    """Send a request target exactly as written (HTTP clients normalise ``..``)."""
    host, port = address.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(f"GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        response = b""
        while chunk := sock.recv(65536):
            response += chunk
    return int(response.split(b" ", 2)[1]), response


async def test_no_audio_url_without_a_store(fake_app: RunningApp, urdu_audio: bytes) -> None:
    data, audio = await you_said(fake_app.address, urdu_audio)
    assert "audio_url" not in data and audio


async def test_reply_audio_url_serves_the_same_bytes_immutably(
    stored: tuple[RunningApp, FastAPI], urdu_audio: bytes
) -> None:
    running, _ = stored
    data, audio = await you_said(running.address, urdu_audio)
    url = data["audio_url"]
    digest = hashlib.sha256(audio).hexdigest()
    assert url == f"/v1/audio/{digest}.mp3"
    assert data["audio_bytes"] == len(audio)

    async with httpx.AsyncClient(base_url=f"http://{running.address}") as http:
        got = await http.get(url)
        assert got.status_code == 200
        assert got.content == audio
        assert got.headers["cache-control"] == IMMUTABLE
        assert got.headers["etag"] == f'"{digest}"'
        assert got.headers["content-type"] == "audio/mpeg"

        for tag in (f'"{digest}"', f'W/"{digest}"', f'"other", "{digest}"', "*"):
            again = await http.get(url, headers={"If-None-Match": tag})
            assert again.status_code == 304, tag
            assert again.content == b""
            assert again.headers["etag"] == f'"{digest}"'
            assert again.headers["cache-control"] == IMMUTABLE
        changed = await http.get(url, headers={"If-None-Match": '"something-else"'})
        assert changed.status_code == 200 and changed.content == audio

        part = await http.get(url, headers={"Range": "bytes=10-19"})
        assert part.status_code == 206 and part.content == audio[10:20]
        assert part.headers["content-range"] == f"bytes 10-19/{len(audio)}"
        tail = await http.get(url, headers={"Range": "bytes=-5"})
        assert tail.status_code == 206 and tail.content == audio[-5:]
        beyond = await http.get(url, headers={"Range": f"bytes={len(audio)}-"})
        assert beyond.status_code == 416
        stale = await http.get(url, headers={"Range": "bytes=0-9", "If-Range": '"old"'})
        assert stale.status_code == 200 and stale.content == audio

        head = await http.head(url)
        assert head.status_code == 200 and head.content == b""
        assert int(head.headers["content-length"]) == len(audio)


async def test_unknown_and_malformed_names(stored: tuple[RunningApp, FastAPI]) -> None:
    running, _ = stored
    async with httpx.AsyncClient(base_url=f"http://{running.address}") as http:
        unknown = await http.get(f"/v1/audio/{'ab' * 32}.mp3")
        assert unknown.status_code == 404
        assert unknown.headers["cache-control"] == "no-store"
        assert unknown.json()["error"]["code"] == "audio_not_found"
        revalidated = await http.get(f"/v1/audio/{'ab' * 32}.mp3", headers={"If-None-Match": "*"})
        assert revalidated.status_code == 404
        for name in (f"{'AB' * 32}.mp3", f"{'ab' * 32}.aac", "keys.mp3", f"{'ab' * 31}.mp3"):
            bad = await http.get(f"/v1/audio/{name}")
            assert bad.status_code == 400, name
            assert bad.json()["error"]["code"] == "bad_audio_name"


async def test_path_traversal_is_impossible(
    stored: tuple[RunningApp, FastAPI], urdu_audio: bytes
) -> None:
    running, _ = stored
    data, _ = await you_said(running.address, urdu_audio)
    digest = data["audio_url"].rsplit("/", 1)[1].split(".")[0]
    targets = [
        "/v1/audio/../../../../etc/passwd",
        "/v1/audio/..%2F..%2F..%2Fetc%2Fpasswd.mp3",
        "/v1/audio/%2e%2e.mp3",
        f"/v1/audio/{digest[:2]}%2F{digest}.mp3",
        f"/v1/audio/..%2F{digest[:2]}%2F{digest}.mp3",
        f"/v1/audio/keys%2F{digest[:2]}.mp3",
        "/v1/audio/%00.mp3",
    ]
    for target in targets:
        status, response = await asyncio.to_thread(raw_status, running.address, target)
        assert status in (400, 404), (target, status)
        assert b"root:" not in response


async def test_a_new_instance_serves_stored_audio_without_synthesising(
    tmp_path: Path, urdu_audio: bytes
) -> None:
    settings = store_settings(tmp_path)
    first = stored_app(settings, Script())
    with serve(first) as address:
        data, audio = await you_said(address, urdu_audio)
        assert any(v.said for v in voices(first))

    second = stored_app(settings, Script())
    with serve(second) as address:
        # Start-up synthesised only the fixed segments' PCM: the fixed replies came from disk.
        started = {text for v in voices(second) for text in v.said}
        assert started == {segment.text for segment in fixed_segments()}
        for voice in voices(second):
            voice.said.clear()

        async with httpx.AsyncClient(base_url=f"http://{address}") as http:
            got = await http.get(data["audio_url"])
        assert got.status_code == 200 and got.content == audio
        again, again_audio = await you_said(address, urdu_audio)
        assert again["audio_url"] == data["audio_url"] and again_audio == audio
        assert [v.said for v in voices(second)] == [[], []]


async def test_public_base_url_prefixes_audio_url(tmp_path: Path, urdu_audio: bytes) -> None:
    settings = store_settings(tmp_path, public_base_url="https://cdn.example.org/")
    with serve(stored_app(settings, Script())) as address:
        data, audio = await you_said(address, urdu_audio)
    digest = hashlib.sha256(audio).hexdigest()
    assert data["audio_url"] == f"https://cdn.example.org/v1/audio/{digest}.mp3"


def audio_count(root: Path) -> int:
    return sum(1 for p in root.glob("??/*") if not p.name.startswith("."))


async def test_background_pregeneration_runs_after_ready_and_stops_at_shutdown(
    tmp_path: Path, urdu_audio: bytes
) -> None:
    settings = store_settings(tmp_path, pregenerate_phrases=True, pregenerate_modes=["english"])
    phrases = PhraseBank.load()
    app = stored_app(settings, Script(), phrases)
    root = tmp_path / "audio"
    with serve(app) as address:
        # Ready (and answering) long before the phrase bank's 700 prompts are done.
        async with httpx.AsyncClient(base_url=f"http://{address}") as http:
            assert (await http.get("/health")).status_code == 200
        fixed = audio_count(root)
        deadline = time.monotonic() + 30
        while audio_count(root) < fixed + 5:
            assert time.monotonic() < deadline, "the background job did not start"
            await asyncio.sleep(0.05)
        # Learners are served while it runs.
        data, _ = await you_said(address, urdu_audio)
        assert data["audio_url"]
    written = audio_count(root)
    assert written < fixed + 2 * len(phrases), "shutdown must cancel the job"
    await asyncio.sleep(0.3)
    assert audio_count(root) == written
    assert list(root.rglob(".tmp-*")) == []
