"""What ``peers.py`` sends: learner clips and phrase-bank sentences, and one request of
each kind to ustad's OpenAI-compatible endpoints or to a Wyoming peer."""

from __future__ import annotations

import io
import wave
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

import httpx
from clip_wer import DATA, load_index
from peers_measure import sample_items
from peers_servers import HOST
from peers_wyoming import synthesize, transcribe

from ustad.speech.phrasebank import PhraseBank

WARM_UP_SENTENCE: Final = "This sentence only warms the voice up."
TTS_FORMAT: Final = "wav"
ZIPF_EXPONENT: Final = 1.1


@dataclass(frozen=True)
class Clip:
    """One learner recording, as a WAV file and as the PCM inside it."""

    utt_id: str
    text: str
    """The sentence the speaker was asked to read."""
    wav: bytes
    pcm: bytes
    seconds: float


def load_clip(row: Mapping[str, str]) -> Clip:
    """A speechocean762 clip; it must be 16 kHz mono 16-bit WAV (the corpus format)."""
    data = (DATA / row["file"]).read_bytes()
    with wave.open(io.BytesIO(data)) as reader:
        shape = (reader.getframerate(), reader.getnchannels(), reader.getsampwidth())
        if shape != (16_000, 1, 2):
            raise ValueError(f"{row['file']}: expected 16 kHz mono 16-bit WAV, got {shape}")
        frames = reader.getnframes()
        pcm = reader.readframes(frames)
    return Clip(row["utt_id"], row["text"], data, pcm, frames / 16_000)


def load_clips(count: int, seed: int) -> tuple[list[Clip], Clip]:
    """``count`` clips drawn with ``seed``, and one more for the warm-up requests."""
    rows = sample_items(load_index(), count + 1, seed)
    clips = [load_clip(row) for row in rows]
    return clips[1:], clips[0]


def english_sentences() -> list[str]:
    """The phrase bank's English sentences (the TTS workload's vocabulary)."""
    return [phrase.english for phrase in PhraseBank.load()]


async def ustad_transcribe(http: httpx.AsyncClient, url: str, clip: Clip) -> str:
    """``/v1/audio/transcriptions`` with ``language=en`` (the English recogniser)."""
    response = await http.post(
        f"{url}/v1/audio/transcriptions",
        files={"file": (f"{clip.utt_id}.wav", clip.wav, "audio/wav")},
        data={"model": "whisper-1", "language": "en", "response_format": "json"},
    )
    response.raise_for_status()
    return str(response.json()["text"])


async def peer_transcribe(port: int, clip: Clip) -> str:
    """The same samples to a Wyoming recogniser."""
    return await transcribe(HOST, port, clip.pcm, rate=16_000, language="en")


async def ustad_speak(http: httpx.AsyncClient, url: str, text: str) -> float:
    """``/v1/audio/speech`` in the English voice as WAV; seconds of audio received."""
    response = await http.post(
        f"{url}/v1/audio/speech",
        json={"model": "tts-1", "input": text, "voice": "en", "response_format": TTS_FORMAT},
    )
    response.raise_for_status()
    # Streamed WAV: the header's sizes say "unknown", so the samples are counted.
    with wave.open(io.BytesIO(response.content)) as reader:
        size = reader.getsampwidth() * reader.getnchannels()
        return len(reader.readframes(reader.getnframes())) / size / reader.getframerate()


async def peer_speak(port: int, text: str) -> float:
    """The same sentence to a Wyoming synthesiser; seconds of audio received."""
    return (await synthesize(HOST, port, text)).seconds
