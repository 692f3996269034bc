"""Assessment of real learner speech (speechocean762) heard by Whisper tiny.en.

The full 300-clip numbers come from ``benchmarks/assessment_quality.py``; these tests
check the same three properties on a fixed subset, with thresholds a little below the
measured ones.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

import jiwer
import pytest

from ustad.assess.align import align
from ustad.assess.normalize import normalize_heard, normalize_target, normalize_word
from ustad.assess.types import Assessment, WordStatus
from ustad.assess.word_match import MatchKind, compare_words, is_content_word

if TYPE_CHECKING:
    from tests.assess.conftest import Judge
    from tests.conftest import LearnerClip
    from ustad.speech.types import Transcript

pytestmark = pytest.mark.models

MISMATCHED_PER_CLIP = 8
SEED = 762


def target_statuses(result: Assessment) -> list[WordStatus]:
    return [w.status for w in result.words if w.status is not WordStatus.INSERTED]


def test_own_sentence_mostly_passes(real_clips: list[LearnerClip], judge: Judge) -> None:
    results = [judge(c, c.text) for c in real_clips]
    rate = sum(r.passed for r in results) / len(results)
    # Measured 78 % on all 300 clips with base's target support (71 % without; 67 %
    # before the wrong-word rule and lenient function-word slips); learners do misread,
    # and tiny.en mishears a third of the words, so nowhere near 100 %.
    assert rate >= 0.66, [(r.target, r.transcript) for r in results if not r.passed]
    assert rate < 1.0


def test_another_sentence_always_fails(
    real_clips: list[LearnerClip], learner_clips: list[LearnerClip], judge: Judge
) -> None:
    rng = random.Random(SEED)
    sentences = sorted({c.text for c in learner_clips})
    passed: list[tuple[str, str]] = []
    pairs = 0
    for clip in real_clips:
        own_words = set(clip.text.split())
        others = [s for s in sentences if s != clip.text]
        # Random sentences plus the ones closest to the clip's own (shared words).
        closest = sorted(others, key=lambda s: -len(own_words & set(s.split())) / len(s.split()))
        for sentence in {*rng.sample(others, MISMATCHED_PER_CLIP), *closest[:3]}:
            pairs += 1
            if judge(clip, sentence).passed:
                passed.append((clip.text, sentence))
    # All 300 clips: 10 of 1774 pairs pass with the target support (5 without), all
    # sentences of mostly function words; issue 10 asks at least 98 % rejected.
    assert pairs >= 300
    assert len(passed) <= 0.015 * pairs, passed


def test_swapped_word_is_flagged(
    real_clips: list[LearnerClip], learner_clips: list[LearnerClip], judge: Judge
) -> None:
    rng = random.Random(SEED)
    pool = sorted({w for c in learner_clips for w in c.text.split() if len(normalize_word(w)) == 1})
    checked = 0
    missed: list[str] = []
    for clip in real_clips:
        own = judge(clip, clip.text)
        if any(s is not WordStatus.CORRECT for s in target_statuses(own)):
            continue
        words = clip.text.split()
        taken = {t for w in words for t in normalize_word(w)}
        for position, original in enumerate(words):
            # An unrelated word: not in the sentence and not a homophone of the original.
            while True:
                candidate = rng.choice(pool)
                (token,) = normalize_word(candidate)
                if token not in taken and not any(
                    compare_words(token, o) is MatchKind.SAME for o in normalize_word(original)
                ):
                    break
            swapped = " ".join([*words[:position], candidate, *words[position + 1 :]])
            checked += 1
            if target_statuses(judge(clip, swapped))[position] is WordStatus.CORRECT:
                missed.append(swapped)
    assert checked >= 30
    assert len(missed) <= 0.05 * checked, missed


def test_word_error_rate_after_normalisation(
    real_clips: list[LearnerClip], tiny_en_transcripts: dict[str, Transcript]
) -> None:
    references, hypotheses = [], []
    for clip in real_clips:
        transcript = tiny_en_transcripts[clip.utt_id]
        target = [t.text for t in normalize_target(clip.text).tokens]
        heard = align(target, normalize_heard([w.text for w in transcript.words])).heard
        references.append(" ".join(target))
        hypotheses.append(" ".join(t.text for t in heard) or "<nothing>")
    # 35 % on all 300 clips: accented child and adult speech is hard for tiny.en.
    assert jiwer.wer(references, hypotheses) < 0.45


def test_a_wrong_content_word_fails(
    real_clips: list[LearnerClip], learner_clips: list[LearnerClip], judge: Judge
) -> None:
    # The learner read their sentence; the target has one content word replaced by
    # another word of the corpus (not the same word or a homophone): a learner saying
    # something other than the target must not pass.
    rng = random.Random(SEED)
    pool = sorted(
        {
            w
            for c in learner_clips
            for w in c.text.split()
            if len(tokens := normalize_word(w)) == 1 and is_content_word(tokens[0])
        }
    )
    checked = 0
    passed: list[str] = []
    for clip in real_clips:
        if not judge(clip, clip.text).passed:
            continue
        words = clip.text.split()
        taken = {t for w in words for t in normalize_word(w)}
        for position, original in enumerate(words):
            tokens = normalize_word(original)
            if len(tokens) != 1 or not is_content_word(tokens[0]):
                continue
            while True:
                candidate = rng.choice(pool)
                (token,) = normalize_word(candidate)
                if token not in taken and compare_words(token, tokens[0]) is not MatchKind.SAME:
                    break
            wrong = " ".join([*words[:position], candidate, *words[position + 1 :]])
            checked += 1
            if judge(clip, wrong).passed:
                passed.append(wrong)
    # Measured: see benchmarks/assessment_quality.py (wrong content word failed: 0.965
    # of 227 with the target support, 0.976 without); issue 10 asks at least 90 %.
    assert checked >= 40
    assert len(passed) <= 0.08 * checked, passed
