"""Remote OpenAI-compatible engines, asked before the local ones (``USTAD_REMOTE_*``).

Each provider (``stt``, ``tts``, ``translation``) is off unless its ``base_url`` is
set. The engines are async (waiting on the network holds no engine thread); their
blocking parts (WAV encoding, decoding the audio that comes back) run on the runtime's
bounded executor. Every failure, timeout, open breaker or refused answer gives
``None``, and the caller asks the local engine: an outage costs latency, never a turn.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from ustad.remote_settings import RemoteSttSettings, RemoteTranslationSettings, RemoteTtsSettings
from ustad.speech.remote.provider import ProviderStats, RemoteError, RemoteProvider, RunBlocking
from ustad.speech.remote.stt import RemoteTranscriber
from ustad.speech.remote.translation import RemoteTranslator, RemoteUrduScript
from ustad.speech.remote.tts import RemoteSynthesizer

__all__ = [
    "ProviderStats",
    "RemoteEngines",
    "RemoteError",
    "RemoteProvider",
    "RemoteSynthesizer",
    "RemoteTranscriber",
    "RemoteTranslator",
    "RemoteUrduScript",
    "RunBlocking",
]


@dataclass
class RemoteEngines:
    """The remote engines that are configured (``None``: that one is off)."""

    stt: RemoteTranscriber | None = None
    tts: RemoteSynthesizer | None = None
    translation: RemoteTranslator | None = None

    @classmethod
    def from_settings(
        cls,
        stt: RemoteSttSettings,
        tts: RemoteTtsSettings,
        translation: RemoteTranslationSettings,
        run_blocking: RunBlocking,
        *,
        max_speech_seconds: float,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> RemoteEngines:
        """One pooled provider per configured group (``base_url`` set); call once, in
        the app's lifespan, and ``aclose()`` once at shutdown. ``run_blocking`` is the
        engine executor's ``run``; ``transport`` replaces the network (tests)."""
        run = run_blocking
        engines = cls()
        if stt.base_url:
            engines.stt = RemoteTranscriber(RemoteProvider("stt", stt, transport=transport), run)
        if tts.base_url:
            engines.tts = RemoteSynthesizer(
                RemoteProvider("tts", tts, transport=transport),
                run,
                voices=tts.voices,
                max_seconds=max_speech_seconds,
            )
        if translation.base_url:
            engines.translation = RemoteTranslator(
                RemoteProvider("translation", translation, transport=transport),
                max_tokens=translation.max_tokens,
                json_mode=translation.json_mode,
            )
        return engines

    @property
    def providers(self) -> tuple[RemoteProvider, ...]:
        """The configured providers, in the order stt, tts, translation."""
        engines = (self.stt, self.tts, self.translation)
        return tuple(engine.provider for engine in engines if engine is not None)

    def stats(self) -> tuple[ProviderStats, ...]:
        """Each configured provider's counters."""
        return tuple(provider.stats() for provider in self.providers)

    async def aclose(self) -> None:
        """Close every provider's pooled client."""
        for provider in self.providers:
            await provider.aclose()
