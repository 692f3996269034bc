"""Correct synthetic speech of the phrase bank passes, with real TTS voices and tiny.en.

The full figures come from ``benchmarks/voice_selfcheck.py``; these tests read a fixed
share of the phrase bank (every :data:`STEP`-th sentence, plus every sentence with a
name, which tiny.en mishears most) and assert rates with margin, since the recogniser's
int8 kernels differ slightly between CPUs.
"""

from __future__ import annotations

import pytest
from voice_selfcheck import VoiceReport, phrase_sentences, report, transcribe_voice

from ustad.assess.score import assess
from ustad.assess.word_match import target_names

pytestmark = pytest.mark.models

STEP = 6
"""Every 6th sentence (60 of 356) plus the ones with names: about a minute per voice."""


def sample() -> list[str]:
    """The sentences the tests read."""
    sentences = phrase_sentences()
    return [s for i, s in enumerate(sentences) if i % STEP == 0 or target_names(s)]


@pytest.fixture(scope="module")
def piper() -> VoiceReport:
    return report("piper", transcribe_voice("piper", sample()))


@pytest.fixture(scope="module")
def espeak() -> VoiceReport:
    return report("espeak", transcribe_voice("espeak", sample()))


def test_the_sample_holds_the_names() -> None:
    names = {name for s in sample() for name in target_names(s)}
    assert {"Ali", "Lahore", "Karachi", "Pakistan"} <= names
    assert len(sample()) >= 60


def test_own_voice_passes(piper: VoiceReport) -> None:
    # All 356 with tiny.en: 351 pass (98.6 %), 24 with a word flagged, every one a word
    # tiny.en wrote as another ("I want to." for "I want tea."); see the benchmark.
    assert piper.passed >= 0.93 * piper.sentences, [a.target for a in piper.failed]
    assert piper.with_flag <= 0.15 * piper.sentences, piper.flagged


def test_robotic_voice_passes_most(espeak: VoiceReport) -> None:
    # espeak-ng at 150 wpm, a voice unlike any tiny.en was trained on: 283 of 356 pass
    # (79.5 %; 257 before this change). Issue 10 asks 90 %, which tiny.en's hearing of
    # this voice does not allow ("I have one bullet." for "I have one brother.").
    assert espeak.passed >= 0.65 * espeak.sentences, [a.target for a in espeak.failed]


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
    # Names accept a sound-alike hearing; a different name must still fail.
    heard = transcribe_voice("piper", [said for said, _ in OTHER_NAMES])
    passed = [(said, target) for said, target in OTHER_NAMES if assess(target, heard[said]).passed]
    assert passed == []
