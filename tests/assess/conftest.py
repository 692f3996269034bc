"""Whisper tiny.en transcripts of a fixed subset of the learner clips (loaded once)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from ustad.assess.score import assess
from ustad.assess.support import needs_support
from ustad.assess.types import Assessment
from ustad.settings import Settings
from ustad.speech.types import Audio, Transcript, WordSupport

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


Judge = Callable[["LearnerClip", str], Assessment]
"""``judge(clip, target)``: the clip's attempt at ``target`` assessed as a turn does."""


@pytest.fixture(scope="session")
def judge(
    tiny_en_transcripts: dict[str, Transcript], tmp_path_factory: pytest.TempPathFactory
) -> Judge:
    """Assessment as ``TurnProcessor._attempt`` makes it with the default settings: the
    tiny.en transcript scored, and when it flags a word, scored again with Whisper base's
    support for the target (``assessment.support_model``), asked once per clip and target.
    """
    from ustad.speech.audio import decode_audio
    from ustad.speech.model_paths import multilingual_whisper_dir
    from ustad.speech.whisper import WhisperTranscriber

    settings = Settings().assessment
    model_dir = multilingual_whisper_dir("packaged", tmp_path_factory.mktemp("models"))
    base = WhisperTranscriber(model_dir, name="base", short_clip_window=True, encodings_kept=4)

    @functools.cache
    def audio(path: Path) -> Audio:
        return decode_audio(path.read_bytes())

    @functools.cache
    def support(path: Path, target: str) -> tuple[WordSupport, ...]:
        return base.target_support(audio(path), target)

    def judged(clip: LearnerClip, target: str) -> Assessment:
        transcript = tiny_en_transcripts[clip.utt_id]
        first = assess(target, transcript)
        if not (settings.target_support and needs_support(first)):
            return first
        return assess(
            target,
            transcript,
            support=support(clip.path, target),
            support_probability=settings.support_probability,
        )

    return judged
