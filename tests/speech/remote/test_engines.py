"""The remote engines: request shapes, answers turned into ustad's values, and the
local checks every remote answer passes (or fails into a fallback)."""

from __future__ import annotations

import asyncio
import json

import httpx
import numpy as np
import pytest

from tests.speech.remote.helpers import (
    Scripted,
    chat,
    form_fields,
    inline,
    ok_json,
    pair,
    refused,
    speech,
    stt_settings,
    tone,
    translation_settings,
    tts_settings,
    wav_answer,
)
from ustad.speech.audio import encode_audio
from ustad.speech.phrasebank import PhraseBank
from ustad.speech.remote import RemoteEngines
from ustad.speech.remote.provider import RemoteProvider
from ustad.speech.remote.stt import RemoteTranscriber
from ustad.speech.remote.translation import RemoteTranslator, RemoteUrduScript
from ustad.speech.remote.tts import RemoteSynthesizer
from ustad.speech.target_guard import TargetGuard
from ustad.speech.translation_memory import TranslationMemory
from ustad.speech.types import Pcm, TranscriptSegment, TranslationRequest

URDU = "مجھے ریلوے اسٹیشن جانا ہے"


def transcriber(script: Scripted) -> RemoteTranscriber:
    return RemoteTranscriber(
        RemoteProvider("stt", stt_settings(), transport=script.transport), inline
    )


def verbose(
    text: str, *, words: bool = True, segments: list[dict[str, object]] | None = None
) -> dict[str, object]:
    split = text.split()
    step = 2.0 / max(1, len(split))
    return {
        "task": "transcribe",
        "language": "english",
        "duration": 2.0,
        "text": text,
        "segments": segments
        if segments is not None
        else [
            {
                "id": 0,
                "start": 0.0,
                "end": 2.0,
                "text": f" {text}",
                "tokens": [1, 2, 3],
                "avg_logprob": -0.3,
                "compression_ratio": 1.1,
                "no_speech_prob": 0.01,
            }
        ],
        **(
            {
                "words": [
                    # Spread over the 2 s clip (a time past its end is malformed).
                    {"word": w, "start": i * step, "end": i * step + 0.1}
                    for i, w in enumerate(split)
                ]
            }
            if words
            else {}
        ),
    }


async def test_transcription_request_and_answer() -> None:
    script = Scripted([ok_json(verbose("So Mary went on to study."))])
    heard = await transcriber(script).transcribe(speech(), language="en", word_timestamps=True)
    assert heard is not None
    assert heard.text == "So Mary went on to study."
    assert heard.language == "en" and heard.language_probability == 1.0
    assert [w.text for w in heard.words] == ["So", "Mary", "went", "on", "to", "study."]
    assert heard.words[0].probability == 1.0  # OpenAI gives none: no doubt assumed
    assert heard.avg_logprob == pytest.approx(-0.3)
    # The provider's own segments are kept for verbose_json, subtitles and deltas.
    assert heard.segments == (
        TranscriptSegment("So Mary went on to study.", 0.0, 2.0, -0.3, 1.1, 0.01, 0.0, (1, 2, 3)),
    )
    (request,) = script.requests
    assert request.url.path == "/v1/audio/transcriptions"
    fields = form_fields(request)
    assert fields["model"] == ["whisper-1"]
    assert fields["language"] == ["en"]
    assert fields["response_format"] == ["verbose_json"]
    assert fields["timestamp_granularities[]"] == ["segment", "word"]
    assert b"RIFF" in request.read()  # the utterance goes as WAV


@pytest.mark.parametrize(
    "text",
    [
        "the the the the the the",  # a one-word loop
        "go to the go to the go to the station",  # a phrase going round
        " ".join(["word"] * 3 + ["other", "words", "here"] * 4),  # more words than 2 s hold
    ],
)
async def test_a_looping_or_invented_transcript_falls_back(text: str) -> None:
    # No timed words: as many timed words as these would be malformed before any check.
    script = Scripted([ok_json(verbose(text, words=False))])
    engine = transcriber(script)
    assert await engine.transcribe(speech(), language="en") is None
    stats = engine.provider.stats()
    assert stats.errors == {"rejected": 1} and stats.fallbacks == 1


async def test_a_loop_segment_found_by_its_gzip_ratio_falls_back() -> None:
    loop = {"start": 0, "end": 2, "text": " I want water.", "tokens": [1], "compression_ratio": 3.1}
    script = Scripted([ok_json(verbose("I want water.", segments=[loop]))])
    assert await transcriber(script).transcribe(speech(), language="en") is None


async def test_missing_word_timings_fall_back_when_asked_for() -> None:
    script = Scripted([ok_json(verbose("I want water.", words=False))])
    engine = transcriber(script)
    assert await engine.transcribe(speech(), language="en", word_timestamps=True) is None
    assert await engine.transcribe(speech(), language="en") is not None


async def test_a_failed_call_is_a_fallback() -> None:
    engine = transcriber(Scripted([refused]))
    assert await engine.transcribe(speech(), language="ur") is None
    assert engine.provider.stats().fallbacks == 1


async def test_speech_request_and_bounded_decode() -> None:
    script = Scripted([wav_answer(tone(0.5))])
    provider = RemoteProvider("tts", tts_settings(), transport=script.transport)
    voice = RemoteSynthesizer(provider, inline, voices={"en": "nova"}, max_seconds=60)
    pcm = await voice.synthesize("Now repeat after me.", "en", speed=1.25)
    # The provider's own rate (the tone is 22.05 kHz): 16 kHz is for recognition only.
    assert pcm is not None and 0.45 < pcm.duration < 0.55 and pcm.sample_rate == 22_050
    body = json.loads(script.requests[0].read())
    assert body == {
        "model": "tts-1",
        "input": "Now repeat after me.",
        "voice": "nova",
        "response_format": "wav",
        "speed": 1.25,
    }
    # No remote voice for Urdu: not asked, not a fallback.
    assert await voice.synthesize("شکریہ", "ur") is None
    assert len(script.requests) == 1 and provider.stats().fallbacks == 0


async def test_remote_speech_keeps_its_high_frequencies() -> None:
    """A 24 kHz voice's 10 kHz content survives (decoded at 16 kHz it could not)."""
    rate = 24_000
    t = np.arange(rate // 2) / rate
    samples = (0.3 * 32767 * np.sin(2 * np.pi * 10_000 * t)).astype(np.int16)
    script = Scripted([wav_answer(encode_audio(Pcm(samples, rate), "wav"))])
    provider = RemoteProvider("tts", tts_settings(), transport=script.transport)
    voice = RemoteSynthesizer(provider, inline, voices={"en": "nova"}, max_seconds=60)
    pcm = await voice.synthesize("Hi.", "en")
    assert pcm is not None and pcm.sample_rate == rate
    spectrum = np.abs(np.fft.rfft(pcm.samples.astype(np.float64)))
    assert abs(float(np.fft.rfftfreq(len(pcm.samples), 1 / rate)[spectrum.argmax()]) - 10_000) < 50


@pytest.mark.parametrize(
    "answer",
    [
        lambda r: httpx.Response(
            200, content=b"RIFF not really", headers={"content-type": "audio/wav"}
        ),
        lambda r: httpx.Response(200, json={"error": "no audio"}),
        wav_answer(tone(3.0)),  # longer than the limit
    ],
)
async def test_bad_speech_audio_falls_back(answer: object) -> None:
    script = Scripted([answer])  # type: ignore[list-item]
    provider = RemoteProvider("tts", tts_settings(retries=0), transport=script.transport)
    voice = RemoteSynthesizer(provider, inline, voices={"en": "nova"}, max_seconds=2.0)
    assert await voice.synthesize("Hello.", "en") is None
    assert provider.stats().fallbacks == 1


def translator(script: Scripted, **settings: object) -> RemoteTranslator:
    provider = RemoteProvider(
        "translation", translation_settings(**settings), transport=script.transport
    )
    return RemoteTranslator(provider, guard=TargetGuard())


async def test_translation_request_and_both_forms_from_one_call() -> None:
    script = Scripted([pair(URDU, "I have to go to the railway station")])
    remote = translator(script)
    memory = TranslationMemory(PhraseBank.load())
    script_form = RemoteUrduScript(remote, memory)
    request = TranslationRequest(text="mujhe railway station jana hai", audio=speech(2.5))
    urdu, english = await asyncio.gather(
        script_form.to_urdu_script(request.text), remote.translate(request)
    )
    assert english is not None
    assert english.text == "I have to go to the railway station."
    assert english.provider == "remote"
    assert urdu.startswith("مجھے ریلوے")
    assert len(script.requests) == 1  # the two forms shared one call
    body = json.loads(script.requests[0].read())
    assert body["model"] == "gpt-4o-mini"
    assert body["response_format"] == {"type": "json_object"}
    assert body["messages"][0]["role"] == "system" and "JSON" in body["messages"][0]["content"]
    assert body["messages"][1] == {"role": "user", "content": request.text}
    assert body["temperature"] == 0


async def test_a_fenced_json_answer_is_read() -> None:
    fenced = "```json\n" + json.dumps({"urdu": URDU, "english": "Where is the bank?"}) + "\n```"
    remote = translator(Scripted([chat(fenced)]))
    found = await remote.translate(TranslationRequest(text="x", audio=speech(2.0)))
    assert found is not None and found.text == "Where is the bank?"


@pytest.mark.parametrize(
    ("english", "reason"),
    [
        ("I want the station water and I want the station water", "repeated phrase"),
        ("water water water water water", "loop"),
        ("Mujhe station jana hai yaar", "not English"),
    ],
)
async def test_a_translation_the_guard_refuses_falls_back(english: str, reason: str) -> None:
    guard = TargetGuard(lexicon={"i", "want", "to", "go", "the", "station", "and", "water"})
    provider = RemoteProvider(
        "translation", translation_settings(), transport=Scripted([pair(URDU, english)]).transport
    )
    remote = RemoteTranslator(provider, guard=guard)
    assert await remote.translate(TranslationRequest(text="x", audio=speech(3.0))) is None
    assert provider.stats().errors == {"rejected": 1}
    assert guard.fault(english, seconds=3.0, avg_logprob=0.0) == reason


@pytest.mark.parametrize(
    "content", ["not json at all", json.dumps({"english": 5, "urdu": []}), "[]"]
)
async def test_a_malformed_chat_answer_falls_back(content: str) -> None:
    remote = translator(Scripted([chat(content)]))
    assert await remote.translate(TranslationRequest(text="x", audio=speech())) is None
    assert remote.provider.stats().errors == {"malformed": 1}


async def test_an_urdu_form_that_is_not_urdu_script_is_not_used() -> None:
    remote = translator(Scripted([pair("mujhe pani chahiye", "I want water.")]))
    memory = TranslationMemory(PhraseBank.load())
    urdu = await RemoteUrduScript(remote, memory).to_urdu_script("مجھ پانی چاہئے")
    assert urdu == await memory.to_urdu_script("مجھ پانی چاہئے")


async def test_engines_are_made_only_for_configured_providers() -> None:
    from ustad.settings import Settings

    settings = Settings(remote_stt=stt_settings(), remote_translation=translation_settings())
    engines = RemoteEngines.from_settings(
        settings.remote_stt,
        settings.remote_tts,
        settings.remote_translation,
        inline,
        max_speech_seconds=60,
    )
    assert engines.stt is not None and engines.translation is not None and engines.tts is None
    assert [p.name for p in engines.providers] == ["stt", "translation"]
    await engines.aclose()
    none = RemoteEngines.from_settings(
        Settings().remote_stt,
        Settings().remote_tts,
        Settings().remote_translation,
        inline,
        max_speech_seconds=60,
    )
    assert none.providers == ()
