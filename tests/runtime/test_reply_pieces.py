"""MP3 replies joined from pieces encoded once each."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import numpy as np
import pytest

from ustad.runtime.executor import EngineExecutor
from ustad.runtime.speech_service import SpeechService
from ustad.settings import TtsSettings
from ustad.speech.audio import decode_audio
from ustad.speech.fakes import FakeSynthesizer, FakeTranscriber, FakeTranslator, transcript_of
from ustad.speech.mp3_pieces import encode_mp3_piece
from ustad.speech.types import Segment, SpokenText

Factory = Callable[..., SpeechService]


@pytest.fixture
async def service() -> AsyncIterator[Factory]:
    executor = EngineExecutor(2)

    def make(**tts: object) -> SpeechService:
        translator = FakeTranslator({})
        return SpeechService(
            executor=executor,
            english_stt=FakeTranscriber(lambda a, lang, task: transcript_of("x")),
            multilingual_stt=FakeTranscriber(lambda a, lang, task: transcript_of("x")),
            voices={"en": FakeSynthesizer("en"), "ur": FakeSynthesizer("ur")},
            translators=[translator],
            normalizer=translator,
            tts=TtsSettings(audio_format="mp3", **tts),
            tts_cache_bytes=1 << 22,
            translation_cache_entries=10,
        )

    yield make
    executor.shutdown()


def said(*texts: str) -> SpokenText:
    return SpokenText(" ".join(texts), tuple(Segment("en", text) for text in texts))


async def test_fixed_phrases_are_encoded_once_across_replies(service: Factory) -> None:
    speech = service()
    first = await speech.speak(said("Now repeat:", "Hello there."))
    await speech.speak(said("Now repeat:", "Goodbye."))
    assert speech.engine_calls["encode_mp3_piece"] == 3  # "Now repeat:" once
    assert speech.engine_calls["join_mp3"] == 2 and speech.engine_calls["encode_mp3"] == 0
    # The reply is its pieces' bytes, joined.
    voice, tts = FakeSynthesizer("en"), speech.tts
    pieces = [
        encode_mp3_piece(
            voice.synthesize(text),
            sample_rate=tts.sample_rate,
            bitrate=tts.mp3_bitrate,
            quality=tts.mp3_quality,
            gap_seconds=tts.gap_seconds,
        )
        for text in ("Now repeat:", "Hello there.")
    ]
    assert first == b"".join(pieces)
    back = decode_audio(first, format_hint="mp3", sample_rate=tts.sample_rate)
    spoken = 0.05 * (len("Now repeat:") + len("Hello there."))
    # The lead-in, one gap and the last piece's trailing pause, each within a frame or two.
    assert spoken + tts.gap_seconds < back.duration < spoken + 2 * tts.gap_seconds + 0.15
    assert float(np.max(np.abs(back.samples))) > 0.05


async def test_whole_replies_are_encoded_when_pieces_are_off(service: Factory) -> None:
    speech = service(mp3_pieces=False)
    data = await speech.speak(said("Now repeat:", "Hello there."))
    assert speech.engine_calls["encode_mp3"] == 1
    assert speech.engine_calls["encode_mp3_piece"] == 0
    assert data.startswith(b"ID3")  # a whole file, with its tags
    on = service()
    assert await on.speak(said("Now repeat:", "Hello there.")) != data
