"""The recogniser's second, acoustic opinion on target words the transcript disagrees with.

tiny.en sometimes writes another word for a word said right ("I want to." for "I want
tea."): scoring the transcript alone cannot undo that. The recogniser can also be made
to read the target itself (``Transcriber.target_support``): a target word flagged by the
transcript (heard as another word, or missing) whose teacher-forced probability under
the audio is at least the setting ``assessment.support_probability`` (or
``assessment.prompted_probability`` when the recogniser, prompted with the target, also
wrote the word) is counted as said and correct, with :data:`SUPPORTED_CREDIT`. The
evidence is asked for only when the transcript-level assessment flagged a word
(:func:`needs_support`), so most turns pay nothing. Thresholds and figures:
``ustad.assessment_settings.AssessmentSettings``.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from ustad.assess.normalize import EDGE_PUNCTUATION, normalize_target
from ustad.assess.types import Assessment, WordStatus
from ustad.assess.word_match import target_names
from ustad.speech.phones.types import WordPhones
from ustad.speech.types import PromptedWanted, WordSupport

SUPPORTED_CREDIT = 0.85
"""Credit (of 1) of a flagged word the audio supports: counted as said and correct,
with some doubt left in the score since the recogniser did not write it."""
FLAGGED = frozenset({WordStatus.MISPRONOUNCED, WordStatus.OMITTED})


def needs_support(assessment: Assessment, min_overall: float = 0.0) -> bool:
    """Whether to ask for target support on ``assessment`` (the transcript-only one): some
    target word was flagged (mispronounced or omitted), the only case where support can
    change it, and its overall score (0-100) is at least ``min_overall``
    (``assessment.support_min_overall``, or ``phone_support_min_overall`` for the phone
    evidence after it): an attempt scoring lower shares little with the target, and
    asking costs CPU on every such turn (figures: ``ustad.assessment_settings``)."""
    flagged = any(word.status in FLAGGED for word in assessment.words)
    return flagged and assessment.scores.overall >= min_overall


def supported_words(
    written: Sequence[str],
    support: Sequence[WordSupport],
    probability: float,
    prompted_probability: float | None = None,
    names: frozenset[str] = frozenset(),
) -> frozenset[int]:
    """Indices into ``written`` (the target's written words) whose support is at least
    ``probability``, or at least ``prompted_probability`` (when given) for a word the
    prompted decoding wrote (``WordSupport.prompted``: two opinions that agree need less
    of each). A name of ``names`` (``word_match.target_names``) the prompted decoding
    wrote needs no forced probability: a name is the word a recogniser knows least
    (Piper's "This is Ali speaking." is heard "This is always speaking." by tiny.en
    and base, base's forced "Ali" 0.00, yet base prompted with it writes "Ali"; tiny.en
    prompted with "Omar" still writes "always"). Support words are matched to written
    words by position when the two lists agree, else by equal text in order
    (``difflib``), so a target the normaliser splits differently still maps where it
    can; unmatched words get none.
    """
    pairs = _paired(written, support)
    floor = probability if prompted_probability is None else prompted_probability
    return frozenset(
        i
        for i, s in pairs
        if s.probability >= probability
        or (s.prompted and (s.probability >= floor or written[i] in names))
    )


def prompted_matters(
    written: Sequence[str],
    forced: Sequence[WordSupport],
    probability: float,
    prompted_probability: float | None = None,
    names: frozenset[str] = frozenset(),
) -> bool:
    """Whether a decoding prompted with the target could change which of ``written``
    (the target's written words) :func:`supported_words` accepts, given their ``forced``
    probabilities: whether accepting words varies between none of them prompted and all
    of them prompted. Acceptance only grows with ``prompted``, so when the two agree,
    any prompted decoding gives the same words and need not run
    (``Transcriber.target_support``'s ``prompted``): for example when every word's
    forced probability is at least ``probability`` or below ``prompted_probability``
    and the target has no name of ``names``. Of the 2492 support passes
    ``benchmarks/assessment_quality.py`` asks (base, 0.25 / 0.05), 1076 (43 %) need no
    prompted decoding.
    """
    unprompted = [WordSupport(s.word, s.probability, False) for s in forced]
    every = [WordSupport(s.word, s.probability, True) for s in forced]
    floors = (probability, prompted_probability, names)
    return supported_words(written, unprompted, *floors) != supported_words(written, every, *floors)


def prompted_check(
    target: str, probability: float, prompted_probability: float | None
) -> PromptedWanted:
    """The ``prompted`` callback of ``Transcriber.target_support`` for ``target``:
    :func:`prompted_matters` over its written words and names, at these floors
    (``assessment.support_probability`` and ``prompted_probability``). The target is
    normalised when the callback runs, on the engine's thread, not the caller's."""

    def wanted(forced: tuple[WordSupport, ...]) -> bool:
        names = target_names(target)
        return prompted_matters(
            written_words(target), forced, probability, prompted_probability, names
        )

    return wanted


def _paired(
    written: Sequence[str], support: Sequence[WordSupport]
) -> list[tuple[int, WordSupport]]:
    """Support entries with the index of the written word each belongs to."""
    said = [s.word.strip(EDGE_PUNCTUATION) for s in support]
    if said == list(written):
        return list(enumerate(support))
    matcher = difflib.SequenceMatcher(a=list(written), b=said, autojunk=False)
    return [
        (block.a + k, support[block.b + k])
        for block in matcher.get_matching_blocks()
        for k in range(block.size)
    ]


def written_words(target: str) -> tuple[str, ...]:
    """The target's written words, as :func:`ustad.assess.score.assess` indexes them
    (the words to give the phone stage, so its results line up)."""
    return tuple(normalize_target(target).words)


def with_phone_evidence(
    written: Sequence[str],
    support: Sequence[WordSupport],
    phones: Sequence[WordPhones],
    min_score: int,
) -> tuple[WordSupport, ...]:
    """``support`` re-keyed to ``written`` (one entry per written word, in order), where a
    word whose phones (``phones[i]`` for ``written[i]``, from the phone stage) are all
    ok with a word score of at least ``min_score`` (0-100) counts as fully supported
    (probability 1). A third, independent opinion: the phone recogniser hears the
    target's sounds where tiny.en wrote a similar word ("two" for "tooth", "the" for
    "a" in Piper's readings), while a word the learner did not say has phones that do
    not fit (issue 13's measurements: a swapped content word is flagged by its phones
    in 0.993 of learner clips). Words with no phones (nothing to say) get no such
    support. ``phones`` of another length than ``written`` is ignored (no evidence).
    """
    merged = [WordSupport(word, 0.0) for word in written]
    for index, entry in _paired(written, support):
        if entry.probability >= merged[index].probability:
            merged[index] = WordSupport(written[index], entry.probability, entry.prompted)
    if len(phones) == len(written):
        for index, word in enumerate(phones):
            if word.phones and word.status == "ok" and word.score >= min_score:
                merged[index] = WordSupport(written[index], 1.0, merged[index].prompted)
    return tuple(merged)
