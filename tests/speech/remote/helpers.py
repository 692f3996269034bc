"""Scripted remote providers for the remote engines' unit tests (``httpx.MockTransport``)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import numpy as np

from ustad.remote_settings import (
    RemoteProviderSettings,
    RemoteSttSettings,
    RemoteTranslationSettings,
    RemoteTtsSettings,
)
from ustad.speech.audio import encode_audio
from ustad.speech.types import Audio, Pcm

BASE_URL = "http://remote.test/v1"

Handler = Callable[[httpx.Request], httpx.Response]


@dataclass
class Scripted:
    """A MockTransport handler answering from a queue of handlers (the last repeats),
    recording every request."""

    answers: list[Handler]
    requests: list[httpx.Request] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        return answer(request)

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)


def fast(kind: type[RemoteProviderSettings] = RemoteProviderSettings, **extra: Any) -> Any:
    """Settings of a provider at ``BASE_URL`` with no real waiting in backoff."""
    values: dict[str, Any] = {
        "base_url": BASE_URL,
        "backoff_seconds": 0.001,
        "backoff_max_seconds": 0.002,
        "breaker_reset_seconds": 0.2,
        "breaker_failures": 3,
        **extra,
    }
    return kind(**values)


def stt_settings(**extra: Any) -> RemoteSttSettings:
    result: RemoteSttSettings = fast(RemoteSttSettings, **extra)
    return result


def tts_settings(**extra: Any) -> RemoteTtsSettings:
    result: RemoteTtsSettings = fast(RemoteTtsSettings, **extra)
    return result


def translation_settings(**extra: Any) -> RemoteTranslationSettings:
    result: RemoteTranslationSettings = fast(RemoteTranslationSettings, **extra)
    return result


def ok_json(body: Any) -> Handler:
    return lambda request: httpx.Response(200, json=body)


def status(code: int) -> Handler:
    return lambda request: httpx.Response(code, json={"error": {"message": "scripted"}})


def refused(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)


def chat(content: str) -> Handler:
    """An OpenAI chat completion whose message is ``content``."""
    return ok_json(
        {"choices": [{"index": 0, "message": {"role": "assistant", "content": content}}]}
    )


def pair(urdu: str, english: str) -> Handler:
    return chat(json.dumps({"urdu": urdu, "english": english}, ensure_ascii=False))


def tone(seconds: float = 0.5, rate: int = 22_050) -> bytes:
    """WAV of a 220 Hz tone (audible, decodable)."""
    t = np.arange(int(seconds * rate)) / rate
    samples = (0.3 * 32767 * np.sin(2 * np.pi * 220 * t)).astype(np.int16)
    return encode_audio(Pcm(samples, rate), "wav")


def wav_answer(data: bytes) -> Handler:
    return lambda request: httpx.Response(200, content=data, headers={"content-type": "audio/wav"})


def speech(seconds: float = 2.0) -> Audio:
    """A clip of low noise (what the recogniser hears does not matter to a fake)."""
    rng = np.random.default_rng(0)
    return Audio((0.01 * rng.standard_normal(int(seconds * 16_000))).astype(np.float32))


async def inline(fn: Callable[[], Any]) -> Any:
    """``run_blocking`` for tests: the call in place."""
    return fn()


def form_fields(request: httpx.Request) -> dict[str, list[str]]:
    """The text fields of a multipart request (files left out)."""
    body = request.read().decode("latin-1")
    boundary = request.headers["content-type"].split("boundary=")[1]
    fields: dict[str, list[str]] = {}
    for part in body.split(f"--{boundary}"):
        head, _, value = part.partition("\r\n\r\n")
        if 'name="' not in head or "filename=" in head:
            continue
        name = head.split('name="')[1].split('"')[0]
        fields.setdefault(name, []).append(value.rstrip("\r\n"))
    return fields
