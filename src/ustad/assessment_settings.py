"""Settings of the assessment of English attempts (``USTAD_ASSESSMENT__*``).

Each threshold carries the figures it was chosen on; docs/measurements.md has the runs.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class AssessmentSettings(BaseModel):
    """Scoring of English attempts (``USTAD_ASSESSMENT__*``)."""

    model_config = ConfigDict(use_attribute_docstrings=True, extra="forbid")

    pass_mark: float = Field(default=80.0, ge=0.0, le=100.0)
    """Overall score (0-100) at which an attempt passes and the cycle ends."""
    low_confidence: float = Field(default=0.35, ge=0.0, le=1.0)
    """Recogniser word confidence below which a word heard right earns less credit
    (down to 0.8 of a word at confidence 0); it is never flagged on that alone."""
    wrong_word_fails: bool = True
    """An attempt with a content word (not a function word like "the") heard as a clearly
    different word fails whatever its score: the learner said another sentence."""
    target_support: bool = True
    """When the transcript flags a target word, ask a recogniser how well the audio
    supports the target itself (one forced-alignment pass over the target, and one
    decoding prompted with it when that can change the result:
    ``ustad.assess.support.prompted_matters``, about half the passes) and count a
    flagged word it supports at ``support_probability`` or more (``prompted_probability``
    when the prompted decoding wrote it) as said and correct. Figures:
    docs/measurements.md, "Target support" and "Cheaper second opinions". Asked on 2 in
    3 learner turns (those the transcript flags): 0.14 s of CPU for the alignment and
    0.37 s more for the prompted decoding (base, the clip's encoding reused)."""
    support_min_overall: float = Field(default=0.0, ge=0.0, le=100.0)
    """Target support (and the phone evidence after it) is asked only for an attempt whose
    transcript-only overall score (0-100) is at least this; 0 asks for every flagged
    attempt (the default). Below it the attempt shares little with the target, but a
    heavily accented reading can too: on the 300 learner clips of
    ``benchmarks/assessment_quality.py`` (docs/measurements.md, "Cheaper second
    opinions"), "SIX FIVE THREE" heard as "Safe vibe story." scores 2 and passes with
    the support and phone evidence. At 35 the support is asked 495 times fewer (of 2492
    over the benchmark's clip/target pairs), and own sentence passed falls from 0.877
    to 0.873."""
    support_model: Literal["multilingual", "english"] = "multilingual"
    """Which recogniser reads the target for ``target_support``: ``multilingual`` (Whisper
    base, already loaded for the Urdu step: an independent, stronger opinion) or
    ``english`` (tiny.en, which wrote the transcript; its forced probability of a word
    it wrote otherwise is low by construction: espeak-ng passed 296 of 356 with it at
    0.5, against 312 with base)."""
    support_probability: float = Field(default=0.25, ge=0.0, le=1.0)
    """Teacher-forced probability (0-1) of a flagged target word at which the audio is
    taken to support it. Base gave 11 wrong target words at most 0.04 on Piper readings
    of phrase-bank sentences ("Sara" on "This is Ali speaking.", "milk" on "meat").
    Measured at 0.5 / 0.3 / 0.25 / 0.2: own sentence passed 0.753 / 0.780 / 0.780 /
    0.787, wrong content word failed 0.973 / 0.965 / 0.965 / 0.961, other sentence
    rejected 0.997 / 0.996 / 0.994 / 0.994; espeak-ng passed 312 / 319 / 322 / 324 of 356.
    0.25 is the highest value at which espeak-ng reaches issue 10's 90 % on this data."""
    prompted_probability: float = Field(default=0.05, ge=0.0, le=1.0)
    """Lower teacher-forced probability at which a flagged target word counts as said
    when the support recogniser, decoding the clip again with the target as its prompt,
    also wrote it (``WordSupport.prompted``; a name it wrote needs none). Set it to
    ``support_probability`` to use the forced probability alone. Measured (300 learner
    clips, 356 phrase-bank sentences; docs/measurements.md, "Target support") at 0.25
    (off) / 0.05 / 0.02 / 0: own sentence passed 0.780 / 0.827 / 0.833 / 0.923, swapped
    word flagged 1.000 / 0.994 / 0.990 / 0.833, wrong content word failed 0.956 / 0.959 /
    0.959 / 0.822; espeak-ng passed 319 / 333 / 335 / 344 of 356. The prompted decoding
    costs one greedy base decode, made only when some word's forced probability lies
    between the two floors or the target has a name (``prompted_matters``)."""
    phone_support: bool = True
    """A third opinion on target words still flagged after ``target_support``: the phone
    stage (``ustad.speech.phones``) aligns the target's phones to the audio, and a word
    whose phones are all ok with a word score of at least ``phone_support_score`` counts
    as said and correct (``ustad.assess.support.with_phone_evidence``). Asked only on
    those turns; about 0.36 s of CPU each. Measured twice (300 learner clips, 356
    phrase-bank sentences; docs/measurements.md, "Phone evidence"), off / score 100:
    own sentence passed 0.833 / 0.887 (0.813 / 0.877 before), other sentence rejected
    0.990 / 0.983 (0.990 / 0.983), swapped word flagged 0.994 / 0.991 (1.000 / 0.987),
    wrong content word failed 0.959 / 0.938 (0.958 / 0.941); Piper sentences with a word
    flagged 2 / 0 (3 / 0; Piper samples noise, so each run hears other readings), espeak-ng
    passed 338 / 351 (339 / 342) of 356. Only with it on does the tutor's own voice pass every
    sentence with no word flagged. Restricting it to words the transcript did not hear
    as a clearly different content word was tried: own sentence passed 0.843, no gain
    elsewhere."""
    phone_support_score: int = Field(default=100, ge=0, le=100)
    """Word score (0-100, the mean of its phones' scores) at which ``phone_support``
    accepts a flagged word whose phones are all ok. At 90 rather than 100, swapped word
    flagged fell to 0.974 and other sentence rejected to 0.981."""
    phone_support_min_overall: float = Field(default=40.0, ge=0.0, le=100.0)
    """``phone_support`` is asked only for an attempt whose overall score (0-100) after
    the target support is at least this; 0 asks whenever a word is still flagged.
    On the benchmark's pairs (300 learner
    clips, docs/measurements.md, "Cheaper second opinions") own sentence passed stays
    0.877 up to 45 and falls to 0.873 at 50; at 30 / 40 / 45, 11 / 24 / 34 % of the
    phone passes are skipped, with other sentence rejected (0.984) and wrong content
    word failed (0.941) unchanged and swapped word flagged 0.987 -> 0.991. 40 keeps a
    margin below the first loss."""
    reconsider_below: float = Field(default=35.0, ge=0.0, le=100.0)
    """A repeat scoring under this (0-100) is checked for being a new Urdu sentence."""
    phones: bool = False
    """Run the phone stage (``ustad.speech.phones``: CTC phoneme recogniser, GOP per
    phone) on every assessed English attempt, once (shared with ``phone_support``), and
    add its result to the assessment JSON: ``pronunciation`` (mean phone score) and per
    target word ``phone_score`` and ``phones`` (docs/protocol-notes.md). Information
    only: ``passed`` and word statuses do not change. The feedback adds one sound tip
    when a word the assessment marked mispronounced has a phone flagged with a typical
    Urdu-speaker confusion (``ustad.tutor.sound_tips``: a right tip on 10 of 120
    controlled mispronunciations, a tip on 3 of 89 unchanged sentences). Off until its figures meet
    issue 13 (docs/measurements.md, "Phones and GOP": a changed word flagged 0.65, an
    unchanged sentence clean 0.87). Cost (docs/measurements.md, "Phones in the turn"):
    0.36-0.40 s CPU per attempt on 300 learner clips, 0.36-0.38 of tiny.en's
    transcription and the assessment (measured under load)."""
