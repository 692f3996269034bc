"""Speech streamed sentence by sentence through the speech service (fake voices)."""

from __future__ import annotations

import numpy as np
import pytest

from ustad.runtime.executor import EngineExecutor
from ustad.runtime.speech_service import SpeechService
from ustad.runtime.speech_stream import SpeechTooLongError, sentence_pieces, stream_speech
from ustad.settings import TtsSettings
from ustad.speech.audio import decode_audio
from ustad.speech.fakes import (
    FakeSynthesizer,
    FakeTranscriber,
    FakeTranslator,
    transcript_of,
)
from ustad.speech.stream_encoding import PCM_RATE
from ustad.speech.types import Pcm, Segment, SpokenText


def test_one_piece_per_sentence_in_spoken_form() -> None:
    pieces = sentence_pieces(
        (Segment("en", "It costs $5. Really? Yes!"), Segment("ur", "ٹھیک ہے۔ شکریہ")), 200
    )
    assert [p.text for p in pieces] == [
        "It costs five dollars.",
        "Really?",
        "Yes!",
        "ٹھیک ہے۔",
        "شکریہ",
    ]
    assert [p.language for p in pieces] == ["en", "en", "en", "ur", "ur"]
    assert all(len(p.text) <= 10 for p in sentence_pieces((Segment("en", "word " * 40),), 10))


async def test_each_sentence_is_sent_as_it_is_said() -> None:
    english = FakeSynthesizer("en")
    speech = SpeechService(
        executor=EngineExecutor(2),
        english_stt=FakeTranscriber(lambda audio, language, task: transcript_of("")),
        multilingual_stt=FakeTranscriber(lambda audio, language, task: transcript_of("")),
        voices={"en": english, "ur": FakeSynthesizer("ur", voice="fake-ur")},
        translators=[],
        normalizer=FakeTranslator({}),
        tts=TtsSettings(),
        tts_cache_bytes=1 << 20,
        translation_cache_entries=10,
    )
    spoken = SpokenText.single("en", "One sentence. Another one. A third.")
    chunks = [c async for c in stream_speech(speech, spoken, fmt="pcm")]
    assert english.said == ["One sentence.", "Another one.", "A third."]
    assert len(chunks) == 3  # one per sentence
    seconds = 0.05 * len("One sentence.Another one.A third.") + 2 * TtsSettings().gap_seconds
    assert abs(len(b"".join(chunks)) / 2 / PCM_RATE - seconds) < 0.05
    wavs = [c async for c in stream_speech(speech, spoken, fmt="wav")]
    assert len(wavs) == 3 and wavs[0][:4] == b"RIFF"  # streamed too, the header first
    assert abs(decode_audio(b"".join(wavs)).duration - seconds) < 0.05
    with pytest.raises(ValueError, match="nothing to say"):
        [c async for c in stream_speech(speech, SpokenText.single("en", "👍"), fmt="mp3")]


class Expanding(FakeSynthesizer):
    """A voice that says far more than its text suggests (2 s a character)."""

    def synthesize(self, text: str, *, speed: float = 1.0) -> Pcm:
        self.said.append(text)
        return Pcm(np.full(int(self.sample_rate * 2.0 * len(text)), 1000, np.int16), 22_050)


def service_with(voice: FakeSynthesizer) -> SpeechService:
    return SpeechService(
        executor=EngineExecutor(2),
        english_stt=FakeTranscriber(lambda audio, language, task: transcript_of("")),
        multilingual_stt=FakeTranscriber(lambda audio, language, task: transcript_of("")),
        voices={"en": voice, "ur": FakeSynthesizer("ur", voice="fake-ur")},
        translators=[],
        normalizer=FakeTranslator({}),
        tts=TtsSettings(),
        tts_cache_bytes=1 << 20,
        translation_cache_entries=10,
    )


async def test_the_seconds_said_are_counted_and_the_stream_cut_at_the_limit() -> None:
    voice = Expanding("en")
    spoken = SpokenText.single("en", "One. Two. Three.")  # 8 s a sentence here
    chunks = [
        c async for c in stream_speech(service_with(voice), spoken, fmt="pcm", max_seconds=10)
    ]
    seconds = len(b"".join(chunks)) / 2 / PCM_RATE
    assert 9.9 < seconds <= 10.0
    assert voice.said == ["One.", "Two."]  # the third is never synthesised
    wav = b"".join(
        [
            c
            async for c in stream_speech(
                service_with(Expanding("en")), spoken, fmt="wav", max_seconds=10
            )
        ]
    )
    assert 9.9 < decode_audio(wav).duration <= 10.0  # read to its end


async def test_a_first_piece_past_the_limit_is_an_error_before_any_audio() -> None:
    spoken = SpokenText.single("en", "One sentence. Two.")
    chunks = stream_speech(service_with(Expanding("en")), spoken, fmt="mp3", max_seconds=10)
    with pytest.raises(SpeechTooLongError) as error:
        await anext(chunks)
    assert error.value.seconds == pytest.approx(26.0) and error.value.limit == 10
