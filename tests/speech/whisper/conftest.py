"""Fixtures for the Whisper package's tests: engines with the short window, Urdu audio."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from ustad.settings import SttSettings
from ustad.speech.model_paths import english_whisper_dir, multilingual_whisper_dir
from ustad.speech.types import Audio
from ustad.speech.whisper import WhisperTranscriber

if TYPE_CHECKING:
    from tests.conftest import UrduClip
    from tests.speech.conftest import WavLoader


@pytest.fixture(scope="session")
def urdu_audio(urdu_clips: list[UrduClip], load_wav: WavLoader) -> list[tuple[Audio, str]]:
    """The real Urdu clips with their sentences."""
    return [(load_wav(clip.path), clip.text) for clip in urdu_clips]


@pytest.fixture(scope="session")
def tiny_en_short() -> WhisperTranscriber:
    """tiny.en with the short-clip window, as served (``stt.english_low_logprob_redo``,
    ``stt.english_window_max_seconds``)."""
    served = SttSettings()
    return WhisperTranscriber(
        english_whisper_dir("packaged"),
        name="whisper-tiny.en",
        short_clip_window=True,
        redo_low_logprob=served.english_low_logprob_redo,
        english_window_max_seconds=served.english_window_max_seconds,
    )


@pytest.fixture(scope="session")
def base_short(tmp_path_factory: pytest.TempPathFactory) -> WhisperTranscriber:
    """Whisper base with the short-clip window."""
    model_dir = multilingual_whisper_dir("packaged", tmp_path_factory.mktemp("models"))
    return WhisperTranscriber(model_dir, name="whisper-base", short_clip_window=True)


@pytest.fixture(scope="session")
def base_reusing(tmp_path_factory: pytest.TempPathFactory) -> WhisperTranscriber:
    """Whisper base as the server runs it: short window (English readings of long clips
    too), recent encodings kept."""
    model_dir = multilingual_whisper_dir("packaged", tmp_path_factory.mktemp("models"))
    return WhisperTranscriber(
        model_dir,
        name="whisper-base",
        short_clip_window=True,
        encodings_kept=4,
        english_window_max_seconds=SttSettings().english_window_max_seconds,
    )
