"""Speech synthesis by a remote OpenAI-compatible ``/audio/speech``.

Audio is asked for as WAV and decoded by ustad's own bounded decoder
(``ustad.speech.audio.decode_audio``: allowed containers only, at most
``max_seconds``) to mono at the provider's own sample rate (24 kHz from OpenAI,
22.05 kHz from a Piper voice behind speaches): speech is for listening, and 16 kHz,
the recognisers' rate, would cut off everything above 8 kHz. The reply is then joined
and encoded like a local voice's (resampled once, to the output's rate). An answer
that does not decode, is too long (for the call, or for its text:
``longest_seconds``), is at an implausible sample rate (outside
``MIN_SAMPLE_RATE``..``MAX_SAMPLE_RATE``: a 644-byte WAV at 1 Hz "holds" 300 s) or
holds no sound is refused, and the local voice speaks (its speech is not cached).
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Final

import av
import numpy as np

from ustad.speech.audio import SILENCE_DBFS, AudioDecodeError, decode_audio, rms_dbfs
from ustad.speech.containers import sniff_container
from ustad.speech.remote.provider import Answer, RemoteError, RemoteProvider, RunBlocking
from ustad.speech.types import Audio, Language, Pcm

MIN_SECONDS = 0.05
"""Shortest audio accepted for a piece of text (anything shorter said nothing)."""
SECONDS_PER_CHARACTER: Final = 1.5
"""Most seconds of speech accepted per character of text at speed 1. Generous: English
is about 0.07 s a character; espeak-ng says the one-character Urdu ligature "ﷺ" in
1.3 s."""
SECONDS_ADDED: Final = 5.0
"""Seconds accepted on top of ``SECONDS_PER_CHARACTER`` (leading and trailing silence)."""
MIN_SAMPLE_RATE: Final = 8_000
"""Lowest sample rate (Hz) a voice's audio is accepted at (telephone speech)."""
MAX_SAMPLE_RATE: Final = 192_000
"""Highest sample rate (Hz) a voice's audio is accepted at."""


def longest_seconds(text: str, speed: float) -> float:
    """The most audio accepted for ``text`` said at ``speed``: ``SECONDS_PER_CHARACTER``
    a character plus ``SECONDS_ADDED``, stretched by a slower ``speed``."""
    return (SECONDS_PER_CHARACTER * len(text) + SECONDS_ADDED) / max(speed, 0.25)


def source_rate(data: bytes) -> int:
    """The sample rate (Hz) of the first audio stream of encoded ``data`` (its header only,
    no decoding); ``ValueError`` when it has none or cannot be opened.

    Opened with one of ``ALLOWED_DEMUXERS`` (recognised from the bytes, else WAV, which
    was asked for), never by FFmpeg's probe over every demuxer."""
    demuxer = sniff_container(data) or "wav"
    try:
        with av.open(io.BytesIO(data), mode="r", format=demuxer) as container:
            streams = container.streams.audio
            if not streams:
                raise ValueError("no audio stream")
            return int(streams[0].sample_rate or 0)
    except av.FFmpegError as error:
        raise ValueError(f"unreadable audio: {error}") from error


def audio_answer(answer: Answer) -> bytes:
    """The answer's audio bytes (``RemoteError("malformed")`` for an empty or JSON one)."""
    if not answer.content or answer.content_type.startswith(("application/json", "text/")):
        raise RemoteError("malformed", f"no audio in the answer ({answer.content_type!r})")
    return answer.content


class RemoteSynthesizer:
    """Says text on ``provider`` in the voice ``voices`` names for each language.

    ``max_seconds`` bounds the decoded audio of one call (``tts.max_speech_seconds``).
    """

    engine = "remote"

    def __init__(
        self,
        provider: RemoteProvider,
        run_blocking: RunBlocking,
        *,
        voices: Mapping[str, str],
        max_seconds: float,
    ) -> None:
        self.provider = provider
        self.voices = dict(voices)
        self._run_blocking = run_blocking
        self._max_seconds = max_seconds

    def voice_for(self, language: Language) -> str | None:
        """The remote voice that says ``language``, or ``None`` (the local voice does)."""
        return self.voices.get(language)

    def cache_id(self, language: Language) -> str | None:
        """What identifies this voice in cache keys (``None`` when it does not speak
        ``language``)."""
        voice = self.voice_for(language)
        return None if voice is None else f"{self.provider.model}/{voice}"

    async def synthesize(self, text: str, language: Language, *, speed: float = 1.0) -> Pcm | None:
        """``text`` said by the remote voice for ``language``; ``None`` when it has none,
        the provider failed, or its audio was refused (then the local voice speaks)."""
        voice = self.voice_for(language)
        if voice is None:
            return None
        body = {
            "model": self.provider.model,
            "input": text,
            "voice": voice,
            "response_format": "wav",
            "speed": speed,
        }
        try:
            data = await self.provider.post("audio/speech", audio_answer, json=body)
        except RemoteError:
            self.provider.fell_back()
            return None
        try:
            return await self._run_blocking(lambda: self._pcm(data, text, speed))
        except (AudioDecodeError, ValueError) as error:
            self.provider.rejected(f"audio: {error}")
            self.provider.fell_back()
            return None

    def _pcm(self, data: bytes, text: str, speed: float) -> Pcm:
        """Decode (bounded by the call's limit and by what ``text`` can take) and check
        the audio; ``ValueError`` when it is unusable."""
        rate = source_rate(data)
        if not MIN_SAMPLE_RATE <= rate <= MAX_SAMPLE_RATE:
            raise ValueError(f"audio at {rate} Hz")
        longest = min(self._max_seconds, longest_seconds(text, speed))
        audio = decode_audio(data, max_seconds=longest, format_hint="wav", sample_rate=rate)
        if audio.duration < MIN_SECONDS:
            raise ValueError(f"{audio.duration:.3f} s of audio")
        if rms_dbfs(audio) <= SILENCE_DBFS:
            raise ValueError("silent audio")
        return pcm_of(audio)


def pcm_of(audio: Audio) -> Pcm:
    """Decoded float samples as the int16 ``Pcm`` the voices give."""
    samples = np.clip(audio.samples * 32767.0, -32768, 32767).astype(np.int16)
    return Pcm(samples, audio.sample_rate)
