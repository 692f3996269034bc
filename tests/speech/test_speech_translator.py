"""Translating Urdu speech with Whisper's translate task."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

import numpy as np
import pytest

from ustad.speech.fakes import FakeTranscriber, transcript_of
from ustad.speech.speech_translator import WhisperSpeechTranslator, clean_sentence
from ustad.speech.types import Audio, Task, Transcript, TranslationRequest, Translator

if TYPE_CHECKING:
    from tests.conftest import UrduClip
    from tests.speech.conftest import WavLoader
    from ustad.speech.whisper import WhisperTranscriber

T = TypeVar("T")

AUDIO = Audio(np.zeros(16_000, dtype=np.float32))


async def in_thread(fn: Callable[[], T]) -> T:
    return await asyncio.to_thread(fn)


def fake_whisper(text: str, threads: list[str] | None = None) -> FakeTranscriber:
    def respond(audio: Audio, language: str | None, task: Task) -> Transcript:
        if threads is not None:
            threads.append(threading.current_thread().name)
        return transcript_of(text, language=language or "ur")

    return FakeTranscriber(respond=respond)


async def test_translates_the_audio_off_the_event_loop() -> None:
    threads: list[str] = []
    whisper = fake_whisper("  the world's most beautiful ", threads)
    translator: Translator = WhisperSpeechTranslator(whisper, in_thread)
    request = TranslationRequest(text="جہاں دنیا کا سب سے اونچا", audio=AUDIO)
    translation = await translator.translate(request)
    assert translation is not None
    assert (translation.text, translation.provider) == ("The world's most beautiful.", "whisper")
    assert translator.name == "whisper"
    assert whisper.calls == [("ur", "translate")]
    assert threads and threads[0] != threading.current_thread().name


async def test_no_audio_means_no_answer() -> None:
    whisper = fake_whisper("hello")
    translator = WhisperSpeechTranslator(whisper, in_thread)
    assert await translator.translate(TranslationRequest(text="سلام")) is None
    assert whisper.calls == []  # nothing was run


@pytest.mark.parametrize("heard", ["", "   ", "...", " - "])
async def test_nothing_heard_means_no_answer(heard: str) -> None:
    translator = WhisperSpeechTranslator(fake_whisper(heard), in_thread)
    assert await translator.translate(TranslationRequest(text="", audio=AUDIO)) is None


async def test_only_translates_into_english() -> None:
    whisper = fake_whisper("hello")
    translator = WhisperSpeechTranslator(whisper, in_thread)
    request = TranslationRequest(text="hello", source="en", target="ur", audio=AUDIO)
    assert await translator.translate(request) is None
    assert whisper.calls == []


async def test_an_engine_error_reaches_the_caller() -> None:
    def fail(audio: Audio, language: str | None, task: Task) -> Transcript:
        raise RuntimeError("decoder exploded")

    translator = WhisperSpeechTranslator(FakeTranscriber(respond=fail), in_thread)
    with pytest.raises(RuntimeError, match="decoder exploded"):
        await translator.translate(TranslationRequest(text="", audio=AUDIO))


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("where is the station", "Where is the station."),
        (" where is the station? ", "Where is the station?"),
        ("I am fine!", "I am fine!"),
        ('"thank you very much,"', "Thank you very much."),
        ("at 9.15   in the   morning", "At 9.15 in the morning."),
        ("it is late -", "It is late."),
        ("...", ""),
        ("", ""),
    ],
)
def test_clean_sentence(raw: str, clean: str) -> None:
    assert clean_sentence(raw) == clean


@pytest.mark.models
async def test_real_urdu_speech_becomes_an_english_sentence(
    whisper_base: WhisperTranscriber, urdu_clips: list[UrduClip], load_wav: WavLoader
) -> None:
    translator = WhisperSpeechTranslator(whisper_base, in_thread)
    for clip in urdu_clips:
        request = TranslationRequest(text=clip.text, audio=load_wav(clip.path))
        translation = await translator.translate(request)
        assert translation is not None
        assert translation.provider == "whisper"
        text = translation.text
        assert text[0].isupper()
        assert text[-1] in ".!?"
        assert len(text.split()) >= 3
        assert all(ch.isascii() for ch in text)
