"""The English gate: was an utterance English or Urdu, by what the models know?

At the Urdu step the learner may answer in English (the tutor then asks for the
Urdu sentence); at the repeat step a badly failed attempt may really be a new Urdu
sentence. Whisper's language identification alone is a poor judge of non-native
English: on speechocean762 (Mandarin-L1 learners) it often puts Chinese, German or
French first, so "English with probability 0.5" missed a third of the clips. Only
two answers matter here, so the distribution is restricted to them: the English
share ``P(en) / (P(en) + P(ur) + P(hi))``. Where that share is decisive it decides;
in the unsure band between two settings, two more pieces of evidence vote with it:
whether the forced-Urdu transcript is plausible Urdu (Urdu script, no loop, a mean
log-prob Whisper would accept, a speakable number of words) and whether the English
recogniser is confident of an English reading (mean log-prob, no-speech
probability). The figures behind the defaults are in ``ustad.settings.SttSettings``
and ``benchmarks/english_gate.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ustad.speech.types import Transcript
from ustad.speech.urdu_text import is_urdu_script
from ustad.speech.whisper.checks import (
    MAX_WORDS_PER_SECOND,
    SHORT_WINDOW_WORDS,
    has_repetition_loop,
    plain_words,
)
from ustad.vocabulary import LanguageGuess

LEANS_ENGLISH = 0.5
"""English share at which language identification, restricted to English and Urdu
(+ Hindi), favours English: the two are then equally likely. In the unsure band it is
one vote of three."""

MAX_NO_SPEECH = 0.5
"""An English transcription whose no-speech probability is at least this is not a
confident English reading (Whisper's own no-speech cut-off is 0.6 with a low log-prob)."""


@dataclass(frozen=True)
class GateThresholds:
    """The gate's tunable figures (``SttSettings`` holds their defaults and sources).

    ``english_share``: English share (0-1) at or above which the utterance is English
    with no further check. ``urdu_share_below``: English share under which it is Urdu
    with no further check. Between them is the unsure band. ``urdu_min_logprob``: mean
    token log-prob (natural log, per token) under which a forced-Urdu transcript is
    not plausible Urdu. ``english_min_logprob``: mean token log-prob at or above which
    the English recogniser's reading is confident.
    """

    english_share: float
    urdu_share_below: float
    urdu_min_logprob: float
    english_min_logprob: float


def english_share(guess: LanguageGuess, urdu_languages: tuple[str, ...]) -> float:
    """``P(en) / (P(en) + P(urdu_languages))`` from the guess's distribution, 0-1.

    0.5 when neither has any probability (nothing to go on). A guess without a
    distribution counts only its top language.
    """
    english = guess.share(("en",))
    urdu = guess.share(urdu_languages)
    total = english + urdu
    return english / total if total > 0.0 else LEANS_ENGLISH


ShareZone = Literal["urdu", "band", "english"]
"""Where an English share falls (``share_zone``)."""


def share_zone(share: float, urdu_below: float, english_from: float) -> ShareZone:
    """``urdu`` for an English share under ``urdu_below``, ``english`` for one at least
    ``english_from``, else ``band``: the unsure band, where more evidence is needed."""
    if share < urdu_below:
        return "urdu"
    return "english" if share >= english_from else "band"


def urdu_doubt(transcript: Transcript, *, min_logprob: float) -> str | None:
    """Why a forced-Urdu transcript is not plausible Urdu speech, or ``None`` if it is.

    Implausible: no text; letters mostly not in Urdu (Arabic) script (English speech
    forced to Urdu often comes out in Latin letters or digits); a repetition loop; a
    mean log-prob under ``min_logprob``; more words than the clip could hold
    (``MAX_WORDS_PER_SECOND`` per second plus ``SHORT_WINDOW_WORDS``, the recogniser's
    own bound for invented text).
    """
    text = transcript.text.strip()
    if not text:
        return "no text"
    if not is_urdu_script(text):
        return "not in Urdu script"
    words = plain_words(text)
    if has_repetition_loop(words):
        return "repetition loop"
    if transcript.avg_logprob < min_logprob:
        return f"mean log-prob {transcript.avg_logprob:.2f}"
    if len(words) > MAX_WORDS_PER_SECOND * transcript.duration + SHORT_WINDOW_WORDS:
        return f"{len(words)} words in {transcript.duration:.1f} s"
    return None


def english_confident(transcript: Transcript, *, min_logprob: float) -> bool:
    """Whether the English recogniser's reading is confident: some text, a mean
    log-prob at least ``min_logprob`` and a no-speech probability under
    ``MAX_NO_SPEECH``."""
    return (
        bool(transcript.text.strip())
        and transcript.avg_logprob >= min_logprob
        and transcript.no_speech_probability < MAX_NO_SPEECH
    )


def votes_english(share: float, urdu_implausible: bool, english_sure: bool | None) -> bool:
    """The unsure band's decision: English when at least two of three say so.

    The votes are language identification (``share`` at least ``LEANS_ENGLISH``), the
    Urdu transcript (implausible) and the English recogniser (confident). When the
    first two agree the third cannot change the outcome, so ``english_sure`` may be
    ``None`` (not asked); it must be given when they disagree (``ValueError``).
    """
    leans = share >= LEANS_ENGLISH
    if leans == urdu_implausible:
        return leans
    if english_sure is None:
        raise ValueError("the English recogniser's vote is needed when the others disagree")
    return english_sure


def needs_english_vote(share: float, urdu_implausible: bool) -> bool:
    """Whether ``votes_english`` needs the English recogniser (the other two disagree)."""
    return (share >= LEANS_ENGLISH) != urdu_implausible
