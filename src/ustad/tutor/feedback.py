"""What the tutor says about an English attempt, in Urdu or in English.

The reply names at most :data:`MAX_WORDS_NAMED` words to work on, in sentence order,
telling words said unclearly (mispronounced) apart from words left out (omitted). It
mentions pace when fluency is what held the attempt back, and its tone follows the
result: passed, nearly there (overall >= :data:`NEARLY_MARK`), or far off. When the
phone stage ran (``assessment.phones``) and its evidence is strong, it adds one tip naming
the sound that went wrong and how to make it (:mod:`ustad.tutor.sound_tips`).

In Urdu mode the English words are separate ``Segment(language="en")`` runs so the
English voice says them; the Urdu around them is spoken by the Urdu voice. ``text`` is
always the segments joined, which is what the learner sees.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from ustad.assess.fluency import COMFORTABLE_WPM, LONG_PAUSE_SECONDS
from ustad.assess.types import Assessment, WordStatus
from ustad.speech.types import Language, Segment, SpokenText
from ustad.tutor.sound_tips import SoundTip, english_tip, sound_tip, urdu_tip
from ustad.vocabulary import LanguageMode

MAX_WORDS_NAMED = 3
NEARLY_MARK = 60.0
"""Overall score from which a failed attempt counts as nearly there."""
FLUENCY_CONCERN = 75.0
"""Fluency below this is mentioned, when accuracy is not the bigger problem."""
ACCURACY_FOR_PACE = 70.0
"""Pace is only worth mentioning once most words are right."""


@dataclass(frozen=True)
class _Plan:
    """What to say, independent of the language it is said in."""

    tier: Literal["nothing", "passed", "nearly", "far"]
    unclear: tuple[str, ...]
    missing: tuple[str, ...]
    pace: Literal["fast", "slow", "pauses", "smooth"] | None
    extra_words: bool = False
    """Failed only because of words that are not in the sentence."""
    tip: tuple[SoundTip, str] | None = None
    """A sound to work on and its word as shown (at most one per reply)."""


class _Reply:
    """Builds segments; adjacent runs in the same language are merged."""

    def __init__(self) -> None:
        self._runs: list[tuple[Language, str]] = []

    def add(self, language: Language, text: str) -> None:
        if not text:
            return
        if self._runs and self._runs[-1][0] == language:
            self._runs[-1] = (language, self._runs[-1][1] + text)
        else:
            self._runs.append((language, text))

    def build(self) -> SpokenText:
        segments = tuple(Segment(language, text) for language, text in self._runs)
        return SpokenText(text="".join(s.text for s in segments), segments=segments)


def _as_shown(word: str, target: str) -> str:
    """A word as it reads best in a reply: an ALL-CAPS target is shown in lower case."""
    letters = [ch for ch in target if ch.isalpha()]
    if letters and all(ch.isupper() for ch in letters):
        word = re.sub(r"\bi\b", "I", word.lower())
    return word


def _quoted(words: tuple[str, ...]) -> str:
    return ", ".join(f"'{w}'" for w in words)


def _pace(assessment: Assessment) -> Literal["fast", "slow", "pauses", "smooth"]:
    rate = assessment.speech_rate_wpm
    pause = assessment.longest_pause_seconds
    if rate is not None and rate > COMFORTABLE_WPM[1]:
        return "fast"
    if pause is not None and pause > LONG_PAUSE_SECONDS:
        return "pauses"
    if rate is not None and rate < COMFORTABLE_WPM[0]:
        return "slow"
    return "smooth"


def _plan(assessment: Assessment) -> _Plan:
    # A word heard but hidden (an offensive hearing, see ustad.assess.offensive) has no
    # heard text, yet something was said.
    said_anything = any(w.status is not WordStatus.OMITTED for w in assessment.words)
    if not said_anything:
        return _Plan("nothing", (), (), None)
    named = assessment.words_to_practise[:MAX_WORDS_NAMED]
    first_status: dict[str, WordStatus] = {}
    for result in assessment.words:
        if result.word in named:
            first_status.setdefault(result.word, result.status)
    shown = {w: _as_shown(w, assessment.target) for w in named}
    unclear = tuple(shown[w] for w in named if first_status[w] is WordStatus.MISPRONOUNCED)
    missing = tuple(shown[w] for w in named if first_status[w] is WordStatus.OMITTED)
    scores = assessment.scores
    pace = None
    if scores.fluency < FLUENCY_CONCERN and scores.accuracy >= ACCURACY_FOR_PACE:
        pace = _pace(assessment)
    if assessment.passed:
        tier: Literal["passed", "nearly", "far"] = "passed"
    elif scores.overall >= NEARLY_MARK:
        tier = "nearly"
    else:
        tier = "far"
    extra_words = (
        tier != "passed"
        and not named
        and any(w.status is WordStatus.INSERTED for w in assessment.words)
    )
    found = sound_tip(assessment)
    # Only about a word the reply names (a word past MAX_WORDS_NAMED is not mentioned).
    tip = None
    if found is not None and found.word in named:
        tip = (found, shown[found.word])
    return _Plan(tier, unclear, missing, pace, extra_words, tip)


def _english(plan: _Plan) -> SpokenText:
    parts: list[str] = []
    if plan.tier == "nothing":
        parts.append("I couldn't hear you. Please try again, a little louder.")
    elif plan.tier == "passed":
        if plan.unclear or plan.missing:
            parts.append("Well done!")
            watch = plan.unclear + plan.missing
            parts.append(f"Just take care with {_quoted(watch)}.")
            if plan.tip is not None:
                parts.append(english_tip(*plan.tip))
        else:
            parts.append("Well done! You said it clearly.")
    else:
        parts.append("Good try." if plan.tier == "nearly" else "Let's try that again together.")
        if plan.unclear:
            parts.append(f"Let's work on: {_quoted(plan.unclear)}.")
        if plan.tip is not None:
            parts.append(english_tip(*plan.tip))
        if plan.missing:
            verb = "this word" if len(plan.missing) == 1 else "these words"
            parts.append(f"Don't forget {verb}: {_quoted(plan.missing)}.")
        if plan.extra_words:
            parts.append("Say just the sentence, without extra words.")
    pace = {
        "fast": "Try speaking a little more slowly.",
        "slow": "Try to say it a little faster, in one go.",
        "pauses": "Try to say it smoothly, without long stops.",
        "smooth": "Try to say it smoothly, in one go.",
    }
    if plan.pace is not None:
        advice = pace[plan.pace]
        parts.append(
            f"Next time, {advice[0].lower()}{advice[1:]}" if plan.tier == "passed" else advice
        )
    if plan.tier == "nearly":
        parts.append("Listen and try again.")
    elif plan.tier == "far":
        parts.append("Listen carefully, then say the whole sentence slowly.")
    return SpokenText.single("en", " ".join(parts))


def _urdu(plan: _Plan) -> SpokenText:
    reply = _Reply()
    if plan.tier == "nothing":
        reply.add("ur", "مجھے آپ کی آواز سنائی نہیں دی۔ ذرا اونچی آواز میں دوبارہ بولیں۔")
        return reply.build()
    if plan.tier == "passed":
        if plan.unclear or plan.missing:
            watch = plan.unclear + plan.missing
            one = len(watch) == 1
            reply.add("ur", "شاباش! بہت اچھا۔ بس " + ("اس لفظ" if one else "ان الفاظ") + " پر ")
            reply.add("ur", "تھوڑا دھیان دیں: ")
            reply.add("en", _quoted(watch))
            reply.add("ur", "۔")
            _add_tip(reply, plan)
        else:
            reply.add("ur", "شاباش! آپ نے بالکل صاف بولا۔")
    else:
        opener = (
            "اچھی کوشش!" if plan.tier == "nearly" else "کوئی بات نہیں، آئیں دوبارہ کوشش کرتے ہیں۔"
        )
        reply.add("ur", opener)
        if plan.unclear:
            one = len(plan.unclear) == 1
            subject = "اس لفظ" if one else "ان الفاظ"
            reply.add("ur", f" {subject} کو اور صاف بولنے کی کوشش کریں: ")
            reply.add("en", _quoted(plan.unclear))
            reply.add("ur", "۔")
        _add_tip(reply, plan)
        if plan.missing:
            one = len(plan.missing) == 1
            reply.add("ur", " آپ " + ("یہ لفظ" if one else "یہ الفاظ") + " بولنا بھول گئے: ")
            reply.add("en", _quoted(plan.missing))
            reply.add("ur", "۔")
        if plan.extra_words:
            reply.add("ur", " صرف یہی جملہ بولیں، اضافی الفاظ کے بغیر۔")
    pace = {
        "fast": "تھوڑا آہستہ بولیں۔",
        "slow": "تھوڑا تیز اور ایک ہی سانس میں بولنے کی کوشش کریں۔",
        "pauses": "بیچ میں رکے بغیر، روانی سے بولنے کی کوشش کریں۔",
        "smooth": "پورا جملہ روانی سے بولنے کی کوشش کریں۔",
    }
    if plan.pace is not None:
        prefix = "اگلی بار " if plan.tier == "passed" else ""
        reply.add("ur", " " + prefix + pace[plan.pace])
    if plan.tier == "nearly":
        reply.add("ur", " غور سے سنیں اور دوبارہ کوشش کریں۔")
    elif plan.tier == "far":
        reply.add("ur", " پہلے غور سے سنیں، پھر آہستہ آہستہ پورا جملہ بولیں۔")
    return reply.build()


def _add_tip(reply: _Reply, plan: _Plan) -> None:
    if plan.tip is None:
        return
    reply.add("ur", " ")
    for language, text in urdu_tip(*plan.tip):
        reply.add(language, text)


def feedback(assessment: Assessment, mode: LanguageMode) -> SpokenText:
    """The tutor's reply to an attempt: praise, the words to work on, and what to do next."""
    plan = _plan(assessment)
    if mode == "english":
        return _english(plan)
    if mode == "urdu":
        return _urdu(plan)
    raise ValueError(f"unknown feedback mode {mode!r}; expected 'urdu' or 'english'")
