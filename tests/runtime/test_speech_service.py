"""The speech layer's caching: translations and replies are computed once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest

from tests.runtime.blocking import GUARD, BlockedEngine
from ustad.runtime.audio_store import AudioStore
from ustad.runtime.executor import EngineExecutor
from ustad.runtime.metrics import section_families
from ustad.runtime.speech_service import SpeechService
from ustad.runtime.speech_stats import SpeechStats
from ustad.settings import TtsSettings
from ustad.speech.fakes import FakeSynthesizer, FakeTranscriber, FakeTranslator, transcript_of
from ustad.speech.types import Audio, Segment, SpokenText, Translation, TranslationRequest
from ustad.stat_fields import sections_of

AUDIO_STORE = dict(sections_of(SpeechStats))["audio_store"]


class SlowTranslator(FakeTranslator):
    """Counts calls and answers only when released."""

    def __init__(self, table: dict[str, str]) -> None:
        super().__init__(table)
        self.calls = 0
        self.release = asyncio.Event()

    async def translate(self, request: TranslationRequest) -> Translation | None:
        self.calls += 1
        await self.release.wait()
        return await super().translate(request)


@pytest.fixture
async def parts() -> AsyncIterator[tuple[SpeechService, SlowTranslator, FakeSynthesizer]]:
    translator = SlowTranslator({"سلام": "Hello."})
    english = FakeSynthesizer("en")
    executor = EngineExecutor(2)
    speech = SpeechService(
        executor=executor,
        english_stt=FakeTranscriber(lambda a, lang, task: transcript_of("x")),
        multilingual_stt=FakeTranscriber(lambda a, lang, task: transcript_of("x")),
        voices={"en": english, "ur": FakeSynthesizer("ur")},
        translators=[translator],
        normalizer=translator,
        tts=TtsSettings(audio_format="wav"),
        tts_cache_bytes=1 << 20,
        translation_cache_entries=10,
    )
    yield speech, translator, english
    executor.shutdown()


async def test_learners_saying_the_same_sentence_share_one_translation(
    parts: tuple[SpeechService, SlowTranslator, FakeSynthesizer],
) -> None:
    speech, translator, _ = parts
    tasks = [asyncio.create_task(speech.translate("سلام")) for _ in range(5)]
    await asyncio.sleep(0)
    translator.release.set()
    results = await asyncio.gather(*tasks)
    assert {r.text for r in results if r is not None} == {"Hello."}
    assert translator.calls == 1
    assert await speech.translate("سلام") == results[0] and translator.calls == 1
    # "No translation" is an answer too: asked again, the provider is not called again.
    assert await speech.translate("نامعلوم") is None
    assert await speech.translate("نامعلوم") is None
    assert translator.calls == 2
    stats = speech.translation_cache.stats()
    assert stats.coalesced == 4 and stats.hits == 2


async def test_no_translation_of_a_recording_is_not_kept(
    parts: tuple[SpeechService, SlowTranslator, FakeSynthesizer],
) -> None:
    """Asked to say it again, the learner's next recording reaches the providers even
    when its transcript is the same."""
    speech, translator, _ = parts
    translator.release.set()
    audio = Audio(np.zeros(16_000, dtype=np.float32))
    assert await speech.translate("نامعلوم", audio) is None
    assert await speech.translate("نامعلوم", audio) is None
    assert translator.calls == 2
    assert await speech.translate("سلام", audio) is not None
    assert await speech.translate("سلام", audio) is not None
    assert translator.calls == 3


async def test_reply_segments_are_synthesised_once(
    parts: tuple[SpeechService, SlowTranslator, FakeSynthesizer],
) -> None:
    speech, _, english = parts
    first = SpokenText(
        "Now repeat: Hello.", (Segment("en", "Now repeat:"), Segment("en", "Hello."))
    )
    second = SpokenText("Now repeat: Bye.", (Segment("en", "Now repeat:"), Segment("en", "Bye.")))
    audio = await speech.speak(first)
    assert await speech.speak(first) == audio
    await speech.speak(second)
    assert sorted(english.said) == ["Bye.", "Hello.", "Now repeat:"]


async def test_long_text_is_said_in_bounded_pieces(
    parts: tuple[SpeechService, SlowTranslator, FakeSynthesizer],
) -> None:
    """4096 characters with no punctuation: many short engine calls, not one huge one."""
    speech, _, english = parts
    text = " ".join(f"w{index:03d}" for index in range(819))  # 4094 characters
    await speech.speak(SpokenText(text, (Segment("en", text),)))
    limit = speech.tts.max_chunk_chars
    assert len(english.said) >= len(text) // limit
    assert max(len(piece) for piece in english.said) <= limit
    assert " ".join(english.said) == text
    assert speech.engine_calls["tts_fake-tts"] == len(english.said)


async def test_a_stored_reply_is_served_while_the_engines_are_busy(tmp_path: Path) -> None:
    executor, io = EngineExecutor(2), EngineExecutor(1, name="io")
    english = FakeSynthesizer("en")
    translator = FakeTranslator({})
    speech = SpeechService(
        executor=executor,
        english_stt=FakeTranscriber(lambda a, lang, task: transcript_of("x")),
        multilingual_stt=FakeTranscriber(lambda a, lang, task: transcript_of("x")),
        voices={"en": english, "ur": FakeSynthesizer("ur")},
        translators=[translator],
        normalizer=translator,
        tts=TtsSettings(audio_format="wav"),
        tts_cache_bytes=1 << 20,
        translation_cache_entries=10,
        store=AudioStore(tmp_path, io=io),
    )
    reply = SpokenText.single("en", "Well done.")
    try:
        assert await speech.prestore(reply)  # on disk only, not in memory
        synthesised = speech.engine_calls.copy()
        async with BlockedEngine(executor) as engine:
            stored = await asyncio.wait_for(speech.speak_stored(reply), GUARD)
            engine.assert_still_blocked()
        assert stored.on_disk and speech.engine_calls == synthesised  # no engine call
        assert speech.stats().io_executor is not None
        assert speech.stats().io_executor.completed >= 2  # the prestore's and this read
        # The disk tier's own counters (``ustad_audio_store_*`` in /metrics).
        disk = speech.stats().audio_store
        assert disk is not None and disk.hits >= 1 and disk.writes == 1
        families = {f.name: f for f in section_families(AUDIO_STORE, disk)}
        assert families["ustad_audio_store_hits"].samples[0].value == disk.hits
    finally:
        executor.shutdown()
        io.shutdown()


async def test_each_voice_is_given_the_spoken_form(
    parts: tuple[SpeechService, SlowTranslator, FakeSynthesizer],
) -> None:
    speech, _, english = parts
    urdu = speech.voices["ur"]
    assert isinstance(urdu, FakeSynthesizer)
    reply = SpokenText(
        "It costs $500. 👍 میری عمر ۲۵ سال ہے۔",
        (
            Segment("en", "**Well done!** 👍"),
            Segment("en", "It costs $500."),
            Segment("ur", "میری عمر ۲۵ سال ہے۔"),
            Segment("en", "🎉"),
        ),
    )
    await speech.speak(reply)
    assert sorted(english.said) == ["It costs five hundred dollars.", "Well done!"]
    assert urdu.said == ["میری عمر 25 سال ہے۔"]


async def test_pieces_are_cut_from_the_spoken_form(
    parts: tuple[SpeechService, SlowTranslator, FakeSynthesizer],
) -> None:
    """A cut between "No." and its number would make the voice say "no" (the answer)."""
    speech, _, english = parts
    limit = speech.tts.max_chunk_chars
    text = "word " * (limit // 5 - 2) + "No. 2 is my room."
    await speech.speak(SpokenText(text, (Segment("en", text),)))
    assert "number two is my room." in " ".join(english.said).lower()
