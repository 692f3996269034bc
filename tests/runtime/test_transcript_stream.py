"""Transcriptions streamed as the recogniser decodes them (fake recognisers)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace

import numpy as np
import pytest

from ustad.runtime.executor import EngineExecutor
from ustad.runtime.speech_service import SpeechService
from ustad.runtime.transcript_stream import stream_transcription
from ustad.settings import TtsSettings
from ustad.speech.fakes import FakeSynthesizer, FakeTranscriber, FakeTranslator, transcript_of
from ustad.speech.types import Audio, Task, TranscriptSegment

CLIP = Audio(np.zeros(16_000, dtype=np.float32))


def service(english: FakeTranscriber, multilingual: FakeTranscriber) -> SpeechService:
    return SpeechService(
        executor=EngineExecutor(2),
        english_stt=english,
        multilingual_stt=multilingual,
        voices={"en": FakeSynthesizer("en"), "ur": FakeSynthesizer("ur", voice="fake-ur")},
        translators=[],
        normalizer=FakeTranslator({}),
        tts=TtsSettings(),
        tts_cache_bytes=1 << 20,
        translation_cache_entries=10,
    )


class Decoding(FakeTranscriber):
    """A recogniser whose second segment is decoded only once the test says so."""

    def __init__(self) -> None:
        super().__init__(lambda audio, language, task: transcript_of(""))
        self.second = threading.Event()
        self.stopped = threading.Event()

    def stream_segments(
        self, audio: Audio, *, language: str | None = None, task: Task = "transcribe"
    ) -> Iterator[TranscriptSegment]:
        if language not in (None, "en"):
            raise ValueError(f"unknown language {language!r}")
        self.calls.append((language, task))
        return self._segments()

    def _segments(self) -> Iterator[TranscriptSegment]:
        try:
            yield TranscriptSegment("So Mary went on.", 0.0, 1.5)
            assert self.second.wait(timeout=30)
            yield TranscriptSegment("To study.", 1.5, 2.5)
        finally:
            self.stopped.set()


async def test_text_arrives_segment_by_segment() -> None:
    engine = Decoding()
    speech = service(engine, FakeTranscriber(lambda audio, language, task: transcript_of("")))
    pieces = stream_transcription(speech, CLIP, english=True, language="en")
    # The first segment is out while the second is still being decoded.
    assert await anext(pieces) == "So Mary went on."
    engine.second.set()
    assert [piece async for piece in pieces] == [" To study."]
    assert engine.calls == [("en", "transcribe")]
    assert speech.engine_calls["stt_english_transcribe_stream"] == 1


async def test_a_client_that_goes_away_stops_the_decoding() -> None:
    engine = Decoding()
    speech = service(engine, engine)
    pieces = stream_transcription(speech, CLIP, english=True)
    assert await anext(pieces) == "So Mary went on."
    engine.second.set()  # (a real decoder would be mid-window here)
    await pieces.aclose()
    assert engine.stopped.is_set() and speech.executor.stats().queued == 0


async def test_an_unknown_language_is_an_error_before_any_text() -> None:
    engine = Decoding()
    pieces = stream_transcription(service(engine, engine), CLIP, english=False, language="xx")
    with pytest.raises(ValueError, match="unknown language"):
        await anext(pieces)


async def test_an_engine_that_cannot_stream_answers_whole() -> None:
    """Segments of a whole transcript (or its text) follow one another."""

    class Whole:
        name = "whole"

        def __init__(self) -> None:
            self.fake = FakeTranscriber(lambda audio, language, task: transcript_of("Hi there."))

        def transcribe(self, audio: Audio, **options: object) -> object:
            return self.fake.transcribe(audio)

    whole = Whole()
    speech = service(whole, whole)  # type: ignore[arg-type]
    assert [p async for p in stream_transcription(speech, CLIP, english=True)] == ["Hi there."]
    segmented = replace(
        transcript_of("One. Two."),
        segments=(TranscriptSegment("One.", 0.0, 1.0), TranscriptSegment("Two.", 1.0, 2.0)),
    )
    whole.fake.respond = lambda audio, language, task: segmented
    assert [p async for p in stream_transcription(speech, CLIP, english=True)] == ["One.", " Two."]
