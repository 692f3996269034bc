"""Whisper's segments streamed as faster-whisper decodes them (packaged models)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pytest

from tests.speech.whisper.helpers import clip_audio, encoder_widths
from ustad.speech.types import Audio
from ustad.speech.whisper import WhisperTranscriber

if TYPE_CHECKING:
    from tests.conftest import LearnerClip
    from tests.speech.conftest import WavLoader

pytestmark = pytest.mark.models

CLIPS = ("000010122", "069120061", "001350312", "010120335", "010330257")


@pytest.fixture(scope="module")
def reading(learner_clips: list[LearnerClip], load_wav: WavLoader) -> Audio:
    """Five learner sentences read three times over, half a second apart (over 35 s)."""
    parts = [clip_audio(learner_clips, utt_id, load_wav).samples for utt_id in CLIPS]
    gap = np.zeros(8_000, dtype=np.float32)
    audio = Audio(np.concatenate([p for part in parts * 3 for p in (part, gap)]))
    assert audio.duration > 35.0  # more than one of Whisper's 30 s windows
    return audio


def test_segments_come_window_by_window(
    tiny_en: WhisperTranscriber, reading: Audio, monkeypatch: pytest.MonkeyPatch
) -> None:
    audio = reading
    widths = encoder_widths(tiny_en, monkeypatch)
    segments = tiny_en.stream_segments(audio, language="en")
    first = next(segments)
    # The first window's segments are out before the second window is encoded.
    assert len(widths) == 1 and first.text and first.start < 30.0
    rest = list(segments)
    assert len(widths) >= 2 and rest[-1].end > 30.0
    texts = " ".join(s.text for s in [first, *rest]).lower()
    assert "mary went on to study" in texts and "old man" in texts
    assert all(s.tokens and 0.0 <= s.no_speech_prob <= 1.0 for s in [first, *rest])


def test_closing_the_stream_stops_the_decoding(
    tiny_en: WhisperTranscriber, reading: Audio, monkeypatch: pytest.MonkeyPatch
) -> None:
    audio = reading
    widths = encoder_widths(tiny_en, monkeypatch)
    segments = tiny_en.stream_segments(audio, language="en")
    assert next(segments).text
    segments.close()  # type: ignore[attr-defined]
    assert len(widths) == 1  # the second window is never decoded
    with pytest.raises(ValueError, match="English-only"):
        tiny_en.stream_segments(audio, language="ur")
    assert list(tiny_en.stream_segments(Audio(np.zeros(0, dtype=np.float32)))) == []
