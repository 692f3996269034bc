"""Correct synthetic speech of the phrase bank passes, with real TTS voices and tiny.en.

The full figures come from ``benchmarks/voice_selfcheck.py``; these tests read a fixed
share of the phrase bank (every :data:`STEP`-th sentence, plus every sentence with a
name, which tiny.en mishears most) and assert rates with margin, since the recogniser's
int8 kernels differ slightly between CPUs.
"""

from __future__ import annotations

import pytest
from assessment_quality import support_engine
from voice_selfcheck import (
    Voice,
    VoiceReport,
    phrase_sentences,
    report,
    speaker,
    transcribe_voice,
)

from ustad.assess.score import assess
from ustad.assess.support import needs_support
from ustad.assess.word_match import target_names
from ustad.settings import Settings

pytestmark = pytest.mark.models

STEP = 6
"""Every 6th sentence (60 of 356) plus the ones with names: about a minute per voice."""


def sample() -> list[str]:
    """The sentences the tests read."""
    sentences = phrase_sentences()
    return [s for i, s in enumerate(sentences) if i % STEP == 0 or target_names(s)]


SETTINGS = Settings().assessment


def assessed(voice: Voice) -> VoiceReport:
    """The sample read by ``voice`` and assessed as a learn turn does (default settings:
    the target support asked for when the transcript flags a word)."""
    heard = transcribe_voice(voice, sample(), models=(SETTINGS.support_model,))
    if not SETTINGS.target_support:
        return report(voice, heard)
    return report(
        voice,
        heard,
        SETTINGS.support_probability,
        SETTINGS.support_model,
        SETTINGS.prompted_probability,
    )


@pytest.fixture(scope="module")
def piper() -> VoiceReport:
    return assessed("piper")


@pytest.fixture(scope="module")
def espeak() -> VoiceReport:
    return assessed("espeak")


def test_the_sample_holds_the_names() -> None:
    names = {name for s in sample() for name in target_names(s)}
    assert {"Ali", "Lahore", "Karachi", "Pakistan"} <= names
    assert len(sample()) >= 60


def test_own_voice_passes(piper: VoiceReport) -> None:
    # All 356 with tiny.en (short window, as served) and base's target support: 355
    # pass, 13 with a word flagged (347 and 35 without the support); what is left is
    # tiny.en and base both hearing another word ("was" for "is"); see the benchmark.
    assert piper.passed >= 0.96 * piper.sentences, [a.target for a in piper.failed]
    assert piper.with_flag <= 0.10 * piper.sentences, piper.flagged


def test_robotic_voice_passes_most(espeak: VoiceReport) -> None:
    # espeak-ng at 150 wpm, a voice unlike any tiny.en was trained on: 320 of 356 pass
    # (89.9 %) with base's target support and the meaning-flip rule (tiny.en hears a
    # confident "not" in two robotic sentences), 284 (79.8 %) without either. This
    # sample of 72 gave 59-61 passes on AVX2; the margin is for other CPUs' int8 kernels.
    assert espeak.passed >= 0.78 * espeak.sentences, [a.target for a in espeak.failed]


def test_a_word_heard_exactly_is_never_flagged(piper: VoiceReport, espeak: VoiceReport) -> None:
    # Before this change 48 such words were flagged for espeak-ng (low confidence alone).
    assert piper.flagged_exact == ()
    assert espeak.flagged_exact == ()


OTHER_NAMES = (
    ("My name is Ahmed.", "My name is Ali."),
    ("My cousin lives in Karachi.", "My cousin lives in Canada."),
    ("I have to go to Lahore.", "I have to go to Karachi."),
    ("My elder sister lives in Quetta.", "My elder sister lives in Lahore."),
    ("This is Sara speaking.", "This is Ali speaking."),
)
"""(what the voice says, the target): another name than the target's."""


def test_another_name_is_not_accepted_as_the_targets() -> None:
    # Names accept a sound-alike hearing and the target support; a different name must
    # still fail, the support being asked of the target on this audio.
    say = speaker("piper")
    english, reader = support_engine("english"), support_engine(SETTINGS.support_model)
    passed = []
    for said, target in OTHER_NAMES:
        audio = say(said)
        transcript = english.transcribe(audio, language="en", word_timestamps=True)
        result = assess(target, transcript)
        if needs_support(result):
            support = reader.target_support(audio, target)
            result = assess(
                target,
                transcript,
                support=support,
                support_probability=SETTINGS.support_probability,
            )
        if result.passed:
            passed.append((said, target))
    assert passed == []
