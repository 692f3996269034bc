"""Whisper tiny.en transcripts of a fixed subset of the learner clips (loaded once)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from ustad.speech.types import Transcript

if TYPE_CHECKING:
    from tests.conftest import LearnerClip

REAL_CLIP_STEP = 8
"""Every 8th speechocean762 clip: 38 clips, about 35 s of tiny.en on two cores."""


@pytest.fixture(scope="session")
def real_clips(learner_clips: list[LearnerClip]) -> list[LearnerClip]:
    """The deterministic subset of learner clips the model tests transcribe."""
    return learner_clips[::REAL_CLIP_STEP]


@pytest.fixture(scope="session")
def tiny_en_transcripts(real_clips: list[LearnerClip]) -> dict[str, Transcript]:
    """tiny.en transcripts of :func:`real_clips`, from the service's own engine."""
    from ustad.speech.audio import decode_audio
    from ustad.speech.model_paths import english_whisper_dir
    from ustad.speech.whisper import WhisperTranscriber

    engine = WhisperTranscriber(english_whisper_dir("packaged"), name="tiny.en")
    found: dict[str, Transcript] = {}
    for clip in real_clips:
        audio = decode_audio(clip.path.read_bytes())
        found[clip.utt_id] = engine.transcribe(audio, language="en", word_timestamps=True)
    return found
