"""The phone stage on real learner clips and on bad input (loads the phone recogniser).

Bars are rates over sets of clips, set below the figures measured on the 300
speechocean762 clips (docs/measurements.md, "Phones and GOP") with margin.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import LearnerClip
from tests.speech.conftest import WavLoader
from ustad.speech.phones.aligner import MAX_SECONDS, PhoneAligner
from ustad.speech.phones.scoring import sentence_gop
from ustad.speech.phones.types import PhoneAlignmentError
from ustad.speech.types import SAMPLE_RATE

pytestmark = pytest.mark.models

CLIPS = 30
OFFSETS = (1, 7, 101)


@pytest.fixture(scope="module")
def aligner() -> PhoneAligner:
    return PhoneAligner()


@pytest.fixture(scope="module")
def aligned(
    aligner: PhoneAligner, learner_clips: list[LearnerClip], load_wav: WavLoader
) -> list[tuple[LearnerClip, np.ndarray]]:
    """Log-posteriors of the first clips (one recogniser pass each)."""
    return [(c, aligner.log_probs(load_wav(c.path).samples)) for c in learner_clips[:CLIPS]]


def test_every_clip_aligns_with_times_in_order(
    aligner: PhoneAligner, aligned: list[tuple[LearnerClip, np.ndarray]]
) -> None:
    for clip, log_probs in aligned:
        words = aligner.score(log_probs, clip.text.split())
        assert [w.word for w in words] == clip.text.split()
        phones = [p for w in words for p in w.phones]
        assert phones
        starts = [p.start for p in phones]
        assert starts == sorted(starts)
        assert all(p.start < p.end <= len(log_probs) * 0.02 + 1e-9 for p in phones)
        assert all(0 <= p.score <= 100 for p in phones)


def test_own_sentence_beats_other_sentences(
    aligner: PhoneAligner,
    aligned: list[tuple[LearnerClip, np.ndarray]],
    learner_clips: list[LearnerClip],
) -> None:
    wins = pairs = 0
    for n, (clip, log_probs) in enumerate(aligned):
        own = sentence_gop(aligner.score(log_probs, clip.text.split()))
        for offset in OFFSETS:
            other = learner_clips[(n + offset) % len(learner_clips)].text
            if other != clip.text:
                pairs += 1
                wins += own > sentence_gop(aligner.score(log_probs, other.split()))
    assert wins / pairs >= 0.95


def test_own_words_mostly_pass_and_swapped_words_are_flagged(
    aligner: PhoneAligner, aligned: list[tuple[LearnerClip, np.ndarray]]
) -> None:
    own_flagged = own_total = swapped_flagged = 0
    for n, (clip, log_probs) in enumerate(aligned):
        words = clip.text.split()
        result = aligner.score(log_probs, words)
        own_total += len(result)
        own_flagged += sum(w.status != "ok" for w in result)
        i = n % len(words)
        swapped = [*words[:i], "umbrella", *words[i + 1 :]]
        swapped_flagged += aligner.score(log_probs, swapped)[i].status != "ok"
    assert own_flagged / own_total <= 0.2
    assert swapped_flagged / len(aligned) >= 0.85


@pytest.mark.parametrize(
    ("seconds", "match"),
    [(0.0, "no audio"), (0.05, "too short"), (MAX_SECONDS + 1, "longer than")],
)
def test_unusable_audio_is_a_clear_error(aligner: PhoneAligner, seconds: float, match: str) -> None:
    samples = np.zeros(int(seconds * SAMPLE_RATE), dtype=np.float32)
    with pytest.raises(PhoneAlignmentError, match=match):
        aligner.align(samples, ["hello", "everyone", "how", "are", "you"])


def test_too_few_frames_for_repeated_phones_is_a_clear_error(aligner: PhoneAligner) -> None:
    # 4 frames; "odd day" (AA D D EY) needs 5: a blank between the two D
    samples = np.zeros(int(0.07 * SAMPLE_RATE), dtype=np.float32)
    with pytest.raises(PhoneAlignmentError, match="too short"):
        aligner.align(samples, ["odd", "day"])


def test_not_finite_audio_is_a_clear_error(aligner: PhoneAligner) -> None:
    samples = np.full(SAMPLE_RATE, np.nan, dtype=np.float32)
    with pytest.raises(PhoneAlignmentError, match="not finite"):
        aligner.align(samples, ["hello"])


def test_silence_and_short_audio_give_low_scores_not_a_crash(aligner: PhoneAligner) -> None:
    rng = np.random.default_rng(0)
    for seconds in (0.1, 2.0):
        samples = (rng.normal(0, 1e-4, int(seconds * SAMPLE_RATE))).astype(np.float32)
        words = aligner.align(samples, ["yes"])
        assert len(words) == 1
        assert words[0].status != "ok"


def test_no_words_or_nothing_to_say(aligner: PhoneAligner) -> None:
    samples = np.zeros(SAMPLE_RATE, dtype=np.float32)
    assert aligner.align(samples, []) == ()
    (word,) = aligner.align(samples, ["..."])
    assert word.phones == () and word.status == "ok"


def test_threads_align_at_once_each_with_its_own_session(
    aligner: PhoneAligner, aligned: list[tuple[LearnerClip, np.ndarray]], load_wav: WavLoader
) -> None:
    """Engine threads share one aligner: each runs the recogniser on a session of its
    own, at the same time, and gets what one thread alone got."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    clips = aligned[:6]
    samples = [load_wav(clip.path).samples for clip, _ in clips]
    together = threading.Barrier(3, timeout=60)

    def session_of_a_thread(_: int) -> int:
        together.wait()  # three threads at once, each asking for its session
        return id(aligner._session())

    with ThreadPoolExecutor(max_workers=3) as pool:
        found = list(pool.map(aligner.log_probs, samples))
        sessions = set(pool.map(session_of_a_thread, range(3)))
    for (_, alone), at_once in zip(clips, found, strict=True):
        assert np.array_equal(alone, at_once)
    assert len(sessions) == 3  # one per thread, never shared
