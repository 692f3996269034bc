"""espeak-ng speech through ctypes on the espeakng-loader wheel."""

from __future__ import annotations

import gc
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import espeakng_loader
import numpy as np
import pytest

from ustad.speech.audio import decode_audio, encode_audio, rms_dbfs, speech_seconds
from ustad.speech.espeak_tts import (
    EspeakError,
    EspeakSynthesizer,
    EspeakVoiceNotFoundError,
)
from ustad.speech.types import Audio, Pcm, Synthesizer

if TYPE_CHECKING:
    from tests.conftest import UrduClip

URDU = "جہاں دنیا کا سب سے اونچا"
ENGLISH = "Hello there, how are you today?"


@pytest.fixture(scope="module")
def urdu_voice() -> EspeakSynthesizer:
    return EspeakSynthesizer()


def as_audio(pcm: Pcm) -> Audio:
    return decode_audio(encode_audio(pcm, "wav"))


def test_identity_and_protocol(urdu_voice: EspeakSynthesizer) -> None:
    synth: Synthesizer = urdu_voice
    assert (synth.engine, synth.voice, synth.language) == ("espeak-ng", "ur", "ur")
    assert urdu_voice.sample_rate == 22_050


def test_speaks_urdu(urdu_voice: EspeakSynthesizer, urdu_clips: list[UrduClip]) -> None:
    for clip in urdu_clips:
        pcm = urdu_voice.synthesize(clip.text)
        assert pcm.sample_rate == 22_050
        assert pcm.samples.dtype == np.int16
        words = len(clip.text.split())
        # espeak's default 175 words per minute, give or take pauses and long words.
        assert 0.2 * words < pcm.duration < 0.7 * words + 1.0
        audio = as_audio(pcm)
        assert rms_dbfs(audio) > -30.0
        assert speech_seconds(audio) > 0.5 * pcm.duration


def test_speed_scales_duration(urdu_voice: EspeakSynthesizer) -> None:
    normal = urdu_voice.synthesize(URDU).duration
    fast = urdu_voice.synthesize(URDU, speed=2.0).duration
    slow = urdu_voice.synthesize(URDU, speed=0.6).duration
    assert fast == pytest.approx(normal / 2, rel=0.1)
    assert slow == pytest.approx(normal / 0.6, rel=0.1)
    # Beyond espeak's range the rate is clamped rather than refused.
    assert urdu_voice.synthesize(URDU, speed=10.0).duration == pytest.approx(
        normal * 175 / 450, rel=0.1
    )


def test_other_language_voice() -> None:
    english = EspeakSynthesizer("en", language="en")
    assert (english.voice, english.language) == ("en", "en")
    pcm = english.synthesize(ENGLISH)
    assert 1.0 < pcm.duration < 3.5
    assert rms_dbfs(as_audio(pcm)) > -30.0


def test_concurrent_calls_are_serialised(urdu_voice: EspeakSynthesizer) -> None:
    texts = [URDU, "میں بازار جا رہا ہوں", "آپ کا نام کیا ہے"]
    serial = {text: urdu_voice.synthesize(text).duration for text in texts}
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(urdu_voice.synthesize, texts * 6))
    # Interleaved calls into one espeak-ng would mix or drop samples; serialised calls
    # give each text its own length (espeak varies pitch randomly, not timing much).
    for text, pcm in zip(texts * 6, results, strict=True):
        assert pcm.duration == pytest.approx(serial[text], rel=0.02), text


def test_instances_do_not_share_state() -> None:
    """Each instance has its own copy of the library: voices and rates stay apart."""
    slow_urdu = EspeakSynthesizer("ur", rate=120)
    reference = slow_urdu.synthesize(URDU).duration
    fast_english = EspeakSynthesizer("en", language="en", rate=400)
    english_reference = fast_english.synthesize(ENGLISH).duration
    assert slow_urdu.synthesize(URDU).duration == pytest.approx(reference, rel=0.02)

    def speak(index: int) -> Pcm:
        return slow_urdu.synthesize(URDU) if index % 2 else fast_english.synthesize(ENGLISH)

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(speak, range(12)))
    for index, pcm in enumerate(results):
        expected = reference if index % 2 else english_reference
        assert pcm.duration == pytest.approx(expected, rel=0.02)


def test_a_dropped_instance_does_not_disturb_a_new_one() -> None:
    """A new instance may be handed a dead one's descriptor number (and copy)."""
    EspeakSynthesizer("en", language="en", rate=450).synthesize(ENGLISH)
    gc.collect()
    fresh = EspeakSynthesizer("ur", rate=175)
    other = EspeakSynthesizer("en", language="en", rate=450)
    duration = fresh.synthesize(URDU).duration
    other.synthesize(ENGLISH)
    assert fresh.synthesize(URDU).duration == pytest.approx(duration, rel=0.02)
    assert duration > 1.2  # Urdu at 175 wpm, not English at 450


@pytest.mark.parametrize("text", ["", "  ", "\n"])
def test_empty_text_is_refused(urdu_voice: EspeakSynthesizer, text: str) -> None:
    with pytest.raises(ValueError, match="empty"):
        urdu_voice.synthesize(text)


def test_bad_speed_and_rate_are_refused(urdu_voice: EspeakSynthesizer) -> None:
    with pytest.raises(ValueError, match="speed"):
        urdu_voice.synthesize(URDU, speed=0)
    with pytest.raises(ValueError, match="rate"):
        EspeakSynthesizer(rate=10)


def test_unknown_voice() -> None:
    with pytest.raises(EspeakVoiceNotFoundError, match="xx-nope"):
        EspeakSynthesizer("xx-nope")


def test_missing_or_wrong_data_dir(tmp_path: Path) -> None:
    with pytest.raises(EspeakError, match="data directory"):
        EspeakSynthesizer(data_path=tmp_path)


def test_library_that_cannot_load(tmp_path: Path) -> None:
    with pytest.raises(EspeakError, match="cannot read"):
        EspeakSynthesizer(library_path=tmp_path / "missing.so")
    not_a_library = tmp_path / "libespeak-ng.so"
    not_a_library.write_text("not an ELF file")
    with pytest.raises(EspeakError, match="cannot load"):
        EspeakSynthesizer(library_path=not_a_library)


def test_explicit_paths_work() -> None:
    synth = EspeakSynthesizer(
        library_path=espeakng_loader.get_library_path(),
        data_path=espeakng_loader.get_data_path(),
    )
    assert synth.synthesize(URDU).duration > 1.0


@pytest.mark.parametrize("digits", ["۲۵", "٢٥", "25"])
def test_a_number_is_spoken_in_every_digit_script(digits: str) -> None:
    """Urdu text writes numbers in Urdu-script digits; the voice must not skip them."""
    voice = EspeakSynthesizer("ur")
    without = voice.synthesize("میری عمر سال ہے۔").duration
    ascii_number = voice.synthesize("میری عمر 25 سال ہے۔").duration
    spoken = voice.synthesize(f"میری عمر {digits} سال ہے۔").duration
    assert spoken > without + 0.2
    assert spoken == pytest.approx(ascii_number, abs=0.05)
