"""Scoring one English attempt against its target sentence.

Per written target word (see :mod:`ustad.assess.normalize` for how words split into
tokens and map back; a word of several tokens combines them):

* ``CORRECT``: every token heard (the same word or a homophone), whatever the
  recogniser's confidence (low confidence only lowers the credit); a name of the
  target (capitalised inside a sentence, "Lahore") heard as a near-miss counts too,
  since tiny.en has no spelling for most names;
* ``OMITTED``: none of its tokens heard;
* ``MISPRONOUNCED``: anything in between: another word heard in its place, a
  phonetic near-miss, or only part of "don't" said.

Extra words become ``INSERTED`` results, placed after the target word they follow,
except beside a word the transcript had wrong but the audio backs (``support``): those
are the recogniser's split of that word ("ram it on" for "Ramadan").
Hesitation sounds ("um") are not results; they and repeated words cost fluency only.

Scores (0-100):

* accuracy: mean credit per target word (see :func:`match_credit` and
  :func:`substitution_credit`: 1 for a confident match down to 0 for another word or
  nothing); each extra word other than a repetition adds :data:`INSERTION_WEIGHT` to
  the number of words averaged over;
* completeness: share of target words said, as themselves or as a near-miss; a word
  omitted or replaced by a clearly different word was not said;
* fluency: 100 minus penalties for a speech rate outside the comfortable range, long
  pauses, fillers and repetitions (:mod:`ustad.assess.fluency`);
* overall: ``0.6 accuracy + 0.25 completeness + 0.15 fluency x completeness/100``
  (:data:`WEIGHTS`): fluency earns marks only for the part of the sentence said, so
  reading another sentence smoothly is worth nothing.

An attempt passes when overall >= ``pass_mark``, at most :data:`MAX_OMITTED_SHARE`
of the target words were omitted (so leaving out a word of a short sentence fails),
and (setting ``wrong_word_fails``) no content word was heard as a clearly different
word (similarity below :data:`WRONG_WORD_SIMILARITY`) and no negation or opposite was
added, dropped or swapped (:mod:`ustad.assess.meaning`): "river" heard as "market"
fails even a long sentence, while a near-miss ("mouse" for "mouth") or a slip on a
function word ("the" for "a") does not on its own.

The credits and thresholds were tuned on 300 speechocean762 learner clips transcribed
by Whisper tiny.en (``benchmarks/assessment_quality.py``, figures in its docstring).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ustad.assess.align import Alignment, Op, align
from ustad.assess.fluency import fluency
from ustad.assess.meaning import meaning_flipped
from ustad.assess.normalize import Token, normalize_heard, normalize_target
from ustad.assess.offensive import masked_result, masked_text, offensive_words
from ustad.assess.support import SUPPORTED_CREDIT, supported_words
from ustad.assess.types import Assessment, Scores, WordResult, WordStatus
from ustad.assess.word_match import MatchKind, is_content_word, same_onset, target_names
from ustad.speech.types import Transcript, Word, WordSupport

WEIGHTS: dict[str, float] = {"accuracy": 0.6, "completeness": 0.25, "fluency": 0.15}
"""How the overall score weighs the others (fluency scaled by completeness)."""
WRONG_WORD_STATUSES = frozenset({WordStatus.MISPRONOUNCED})
"""Statuses of a content token with ``wrong`` that fail an attempt (``wrong_word_fails``)."""
FUNCTION_SLIP_CREDIT = 0.5
"""Least credit for a function word heard as another word ("the" for "a"): tiny.en
swaps them often in learner speech."""
FUNCTION_SLIP_SAID = True
"""Whether such a slip counts as said (completeness). With the wrong-word rule failing
wrong content words, on the 300 speechocean762 clips: no leniency gave 0.633 of own
sentences passed; credit 0.5 and not said 0.670; 0.7 and not said 0.680; 0.5 and said
0.707, with 5 of 1774 clip/other-sentence pairs passing (sentences almost all function
words, "CAN I SEE YOUR BOY" read for "BUT I SEE HIM"); 0.7 and said let 26 pass."""
WRONG_WORD_SIMILARITY = 0.55
"""A content word heard as another word this alike (see
:func:`ustad.assess.word_match.similarity`) or more is taken as a mishearing, not as
a wrong word. On the 300 speechocean762 clips: 0.5 fails 0.95 of attempts with a wrong
content word, 0.55 fails 0.97 and 0.6 0.98; own-sentence passing falls by 0.01-0.02
per step (tiny.en writes an unclear learner word as a real word of similar sound)."""
MAX_OMITTED_SHARE = 0.2
"""Largest share of target words that may be omitted in a passing attempt."""
INSERTION_WEIGHT = 0.5
"""How much one extra word (not a repetition) weighs against accuracy, in target words."""

LOW_CONFIDENCE_CREDIT = 0.8
"""Credit for a match heard with confidence 0 (rising to 1 at ``low_confidence``): the
word is not flagged, but the score keeps some doubt."""
NEAR_MISS_CREDIT = 0.7
"""Credit for a phonetic near-miss (``MatchKind.NEAR``)."""
DIFFERENT_CREDIT_MAX, DIFFERENT_CREDIT_FROM = 0.3, 0.45
"""Another word earns credit rising linearly from 0 at this similarity to
:data:`DIFFERENT_CREDIT_MAX` at similarity 1."""

FIRST_WORD_CONFIDENCE_FACTOR = 0.5
"""Whisper is unsure of the first word of an utterance even when it is right (on the
speechocean762 clips 17 % of correctly heard first words fall below 0.35, against 4 % of
the other words), so the first word's low-confidence threshold (where its credit starts
to fall) is scaled by this."""


class EmptyTargetError(ValueError):
    """The target sentence has no words to say."""


@dataclass(frozen=True)
class _TokenResult:
    status: WordStatus
    credit: float
    heard: tuple[int, ...]  # indices of transcript words
    said: bool  # heard as itself or as a near-miss
    wrong: bool  # a content word omitted or heard as a clearly different word


@dataclass(frozen=True)
class _Insertion:
    after_word: int  # index of the target word it follows (-1: before the first)
    heard: tuple[int, ...]  # indices into Alignment.heard
    repetition: bool


def heard_words(transcript: Transcript) -> tuple[tuple[Word, ...], bool]:
    """The words of a transcript and whether they carry timings.

    A transcript made without word timestamps has only text: its words are taken from
    the text with full confidence and no timings.
    """
    if transcript.words:
        return transcript.words, any(word.end > 0.0 for word in transcript.words)
    words = tuple(Word(f" {text}", 0.0, 0.0, 1.0) for text in transcript.text.split())
    return words, False


def match_credit(confidence: float, low_confidence: float) -> tuple[WordStatus, float]:
    """Status and credit of a target word heard as itself (or a homophone).

    Always ``CORRECT``: the recogniser wrote the very word, and its confidence alone is
    no evidence of a mispronunciation (tiny.en is unsure of many words said right: 35 of
    356 phrase-bank sentences read by ustad's own voice had a word flagged on low
    confidence alone). Below ``low_confidence`` the credit falls linearly to
    :data:`LOW_CONFIDENCE_CREDIT` at confidence 0, so the score still reflects doubt.
    """
    if confidence >= low_confidence or low_confidence <= 0.0:
        return WordStatus.CORRECT, 1.0
    share = (low_confidence - max(0.0, confidence)) / low_confidence
    return WordStatus.CORRECT, 1.0 - (1.0 - LOW_CONFIDENCE_CREDIT) * share


def substitution_credit(kind: MatchKind | None, similarity: float) -> float:
    """Partial credit for another word heard in place of a target word.

    tiny.en often writes a learner's slightly-off word as a similar real word, so a
    near-miss keeps most of the credit and a different word a little when alike.
    """
    if kind is MatchKind.NEAR:
        return NEAR_MISS_CREDIT
    rise = (similarity - DIFFERENT_CREDIT_FROM) / (1.0 - DIFFERENT_CREDIT_FROM)
    return DIFFERENT_CREDIT_MAX * max(0.0, rise)


_PUNCTUATION = '.,;:!?"()[]{}“”«»…-–—'


def _display(text: str) -> str:
    """A transcript word as shown: no surrounding space, punctuation or hyphen."""
    return text.strip().strip(_PUNCTUATION)


def _token_results(
    alignment: Alignment,
    words: Sequence[Word],
    target: Sequence[Token],
    names: frozenset[int],
    low_confidence: float,
) -> list[_TokenResult]:
    """One result per target token; ``names`` are the indices of tokens of names."""
    results = [
        _TokenResult(WordStatus.OMITTED, 0.0, (), said=False, wrong=is_content_word(t.text))
        for t in target
    ]
    first = alignment.heard[0].source if alignment.heard else -1
    for step in alignment.steps:
        sources = tuple(dict.fromkeys(alignment.heard[j].source for j in step.heard))
        confidence = min((words[s].probability for s in sources), default=0.0)
        name_heard = (
            step.op is Op.SUBSTITUTE
            and step.kind is MatchKind.NEAR
            and all(i in names for i in step.target)
            and same_onset(
                "".join(target[i].text for i in step.target),
                "".join(alignment.heard[j].text for j in step.heard),
            )
        )
        if step.op is Op.MATCH or name_heard:
            threshold = low_confidence * (FIRST_WORD_CONFIDENCE_FACTOR if first in sources else 1)
            status, credit = match_credit(confidence, threshold)
            outcome = _TokenResult(status, credit, sources, said=True, wrong=False)
        elif step.op is Op.SUBSTITUTE:
            credit = substitution_credit(step.kind, step.similarity)
            said = step.kind is MatchKind.NEAR
            if not any(is_content_word(target[i].text) for i in step.target):
                credit = max(credit, FUNCTION_SLIP_CREDIT)
                said = said or FUNCTION_SLIP_SAID
            wrong = (
                not said
                and step.similarity < WRONG_WORD_SIMILARITY
                and any(is_content_word(target[i].text) for i in step.target)
            )
            outcome = _TokenResult(WordStatus.MISPRONOUNCED, credit, sources, said, wrong)
        else:
            continue
        for i in step.target:
            results[i] = outcome
    return results


def _word_result(
    word: str, tokens: Sequence[_TokenResult], words: Sequence[Word], timed: bool
) -> WordResult:
    statuses = {t.status for t in tokens}
    if statuses == {WordStatus.CORRECT}:
        status = WordStatus.CORRECT
    elif statuses == {WordStatus.OMITTED}:
        status = WordStatus.OMITTED
    else:
        status = WordStatus.MISPRONOUNCED
    sources = sorted({s for t in tokens for s in t.heard})
    if not sources:
        return WordResult(word, status)
    heard = [words[s] for s in sources]
    return WordResult(
        word=word,
        status=status,
        heard=" ".join(_display(w.text) for w in heard),
        confidence=min(w.probability for w in heard),
        start=min(w.start for w in heard) if timed else None,
        end=max(w.end for w in heard) if timed else None,
    )


def _insertions(alignment: Alignment, token_words: Sequence[int]) -> list[_Insertion]:
    """Extra heard tokens, grouped per transcript word, anchored after a target word."""
    found: list[_Insertion] = []
    last_word = -1
    texts = [token.text for token in alignment.heard]
    for step in alignment.steps:
        if step.target:
            last_word = token_words[step.target[-1]]
            continue
        (j,) = step.heard
        repetition = (j > 0 and texts[j - 1] == texts[j]) or (
            j + 1 < len(texts) and texts[j + 1] == texts[j]
        )
        previous = found[-1] if found else None
        if (
            previous is not None
            and previous.after_word == last_word
            and previous.heard[-1] == j - 1
            and alignment.heard[j - 1].source == alignment.heard[j].source
        ):
            found[-1] = _Insertion(
                last_word, (*previous.heard, j), previous.repetition and repetition
            )
        else:
            found.append(_Insertion(last_word, (j,), repetition))
    return found


def _insertion_result(
    insertion: _Insertion, alignment: Alignment, words: Sequence[Word], timed: bool
) -> WordResult:
    tokens = [alignment.heard[j] for j in insertion.heard]
    sources = sorted({token.source for token in tokens})
    source_words = [words[s] for s in sources]
    # A whole transcript word is shown as heard; part of one ("2000") by its tokens.
    whole = sum(1 for t in alignment.heard if t.source in sources) == len(tokens)
    text = (
        " ".join(_display(w.text) for w in source_words)
        if whole
        else " ".join(t.text for t in tokens)
    )
    return WordResult(
        word=text,
        status=WordStatus.INSERTED,
        heard=text,
        confidence=min(w.probability for w in source_words),
        start=min(w.start for w in source_words) if timed else None,
        end=max(w.end for w in source_words) if timed else None,
    )


def assess(
    target: str,
    transcript: Transcript,
    *,
    pass_mark: float = 80.0,
    low_confidence: float = 0.35,
    wrong_word_fails: bool = True,
    support: Sequence[WordSupport] | None = None,
    support_probability: float = 0.25,
    prompted_probability: float | None = None,
) -> Assessment:
    """Score ``transcript`` (what the recogniser heard) against the ``target`` sentence.

    ``pass_mark``, ``low_confidence``, ``wrong_word_fails`` and ``support_probability``
    are the settings of :class:`ustad.assessment_settings.AssessmentSettings` (defaults equal).
    ``support``: the recogniser's forced reading of ``target`` on the same audio
    (``Transcriber.target_support``); a target word flagged by the transcript whose
    support is at least ``support_probability`` (``prompted_probability`` for a word a
    prompted decoding wrote) counts as said and correct (:mod:`ustad.assess.support`).
    Offensive words heard that the target lacks are hidden (:mod:`ustad.assess.offensive`).
    Raises :class:`EmptyTargetError` when the target has no words.
    """
    normalized = normalize_target(target)
    if not normalized.tokens:
        raise EmptyTargetError(f"target has no words to say: {target!r}")
    words, timed = heard_words(transcript)
    heard = normalize_heard([w.text for w in words])
    vocabulary = {token.text for token in normalized.tokens}
    # A filler only when the target does not ask for that word ("Ah, I see").
    fillers = sum(1 for t in heard if t.is_filler and t.text not in vocabulary)
    spoken = [t for t in heard if not (t.is_filler and t.text not in vocabulary)]
    alignment = align([t.text for t in normalized.tokens], spoken)

    names = target_names(target)
    name_tokens = frozenset(
        i for i, t in enumerate(normalized.tokens) if normalized.words[t.source] in names
    )
    token_results = _token_results(alignment, words, normalized.tokens, name_tokens, low_confidence)
    token_words = [token.source for token in normalized.tokens]
    floors = (support_probability, prompted_probability, names)
    backed = supported_words(normalized.words, support or (), *floors)
    rescued = frozenset(
        w
        for r, w in zip(token_results, token_words, strict=True)
        if w in backed and r.status is not WordStatus.CORRECT
    )
    token_results = [
        _TokenResult(WordStatus.CORRECT, SUPPORTED_CREDIT, r.heard, said=True, wrong=False)
        if w in backed and r.status is not WordStatus.CORRECT
        else r
        for r, w in zip(token_results, token_words, strict=True)
    ]
    per_word = [
        [r for r, w in zip(token_results, token_words, strict=True) if w == index]
        for index in range(len(normalized.words))
    ]
    # Extra words beside a word the audio backs are the recogniser's split of that word
    # ("ram it on" for "Ramadan"), not words the learner added.
    insertions = [
        i
        for i in _insertions(alignment, token_words)
        if i.after_word not in rescued and i.after_word + 1 not in rescued
    ]
    results = [
        _insertion_result(i, alignment, words, timed) for i in insertions if i.after_word == -1
    ]
    for index, (word, tokens) in enumerate(zip(normalized.words, per_word, strict=True)):
        results.append(_word_result(word, tokens, words, timed))
        results += [
            _insertion_result(i, alignment, words, timed)
            for i in insertions
            if i.after_word == index
        ]

    n_words = len(normalized.words)
    repetitions = sum(1 for i in insertions if i.repetition)
    extra = len(insertions) - repetitions
    credit = sum(sum(t.credit for t in tokens) / len(tokens) for tokens in per_word)
    accuracy = 100.0 * credit / (n_words + INSERTION_WEIGHT * extra)
    said = sum(sum(t.said for t in tokens) / len(tokens) for tokens in per_word)
    completeness = 100.0 * said / n_words
    flow = fluency(
        [w for w in words if w.text.strip()],
        len(alignment.heard),
        fillers,
        repetitions,
        timed=timed,
    )
    overall = (
        WEIGHTS["accuracy"] * accuracy
        + WEIGHTS["completeness"] * completeness
        + WEIGHTS["fluency"] * flow.score * completeness / 100.0
    )
    omitted = sum(1 for r in results if r.status is WordStatus.OMITTED)
    accepted = [i for i, w in enumerate(token_words) if w in backed]
    wrong = any(t.wrong and t.status in WRONG_WORD_STATUSES for t in token_results)
    wrong |= meaning_flipped(alignment, normalized, accepted, [w.probability for w in words])
    passed = (
        overall >= pass_mark
        and omitted <= MAX_OMITTED_SHARE * n_words
        and not (wrong_word_fails and wrong)
    )
    listed = offensive_words()
    allowed = frozenset(w.lower() for w in (*normalized.words, *vocabulary))
    return Assessment(
        target=target,
        transcript=masked_text(transcript.text.strip(), allowed, listed),
        scores=Scores(
            overall=overall, accuracy=accuracy, completeness=completeness, fluency=flow.score
        ),
        passed=passed,
        words=tuple(masked_result(r, allowed, listed) for r in results),
        speech_rate_wpm=flow.speech_rate_wpm,
        longest_pause_seconds=flow.longest_pause_seconds,
    )
