"""One articulation tip naming the sound that went wrong, for the confusions typical of
Urdu speakers learning English.

The phone stage alone is not reliable enough to tell a learner off (docs/measurements.md,
"Phones and GOP": a changed word flagged 0.65 of the time, an unchanged sentence clean
0.87), so a tip needs two independent opinions that agree: the word-level assessment
marked the word mispronounced (the recogniser wrote another word for it, or wrote it
unsure), and the phone stage flagged a phone of it with one of :data:`TIPPED` as what
was heard (v said as w and back, voiceless th as t, voiced th as d, z as j, a vowel
before an s-cluster, h dropped). A word the assessment marked correct never gets a tip,
whatever its phones; an omitted word neither (nothing was said to correct). An added /h/
is not among them: the phone stage scores the target's phones and does not look for
sounds inserted before a vowel.

A stricter rule was tried and is left off (``spelling=True``): the recogniser's spelling
of the word must also carry the sound (:func:`heard_agrees`: "wary" for "very", "tree"
for "three"). On controlled renderings it kept 3 of the 10 right tips and removed 1 of
the 3 tips on unchanged sentences, since the recogniser spells a learner's word as a
real word ("Who" for "Whose" said with a j); on learner clips it cut 27 tips on 300
attempts to 7 (docs/measurements.md, "Phones in the turn").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal

from ustad.assess.types import Assessment, WordStatus
from ustad.speech.types import Language

__all__ = ["TIPPED", "SoundTip", "english_tip", "heard_agrees", "sound_tip", "urdu_tip"]

TipKind = Literal["v_as_w", "w_as_v", "th_as_t", "dh_as_d", "z_as_j", "vowel_before_s", "no_h"]

TIPPED: Final[dict[tuple[str, str], TipKind]] = {
    ("V", "W"): "v_as_w",
    ("W", "V"): "w_as_v",
    ("TH", "T"): "th_as_t",
    ("DH", "D"): "dh_as_d",
    ("Z", "JH"): "z_as_j",
    ("HH", ""): "no_h",
}
"""(target phone, phone heard) in ARPAbet -> the tip; "" heard = left out. A vowel heard
inserted before a word-initial S (``heard`` "IH S", "AH S"...) is ``vowel_before_s``."""

Position = Literal["first", "last", "middle"]


@dataclass(frozen=True)
class SoundTip:
    """A tip about one phone of one target word: ``word`` as written in the target,
    ``position`` of the phone in the word's phones, and which confusion it was."""

    word: str
    kind: TipKind
    position: Position


def _kind(phone: str, heard: str, first: bool) -> TipKind | None:
    if phone == "S" and first and heard.endswith(" S"):
        return "vowel_before_s"
    return TIPPED.get((phone, heard))


_DIGRAPHS: Final = re.compile(r"[tscgwp]h")
_SPELT: Final[dict[TipKind, re.Pattern[str]]] = {
    "v_as_w": re.compile(r"w"),
    "w_as_v": re.compile(r"v"),
    "th_as_t": re.compile(r"t"),
    "dh_as_d": re.compile(r"d"),
    "z_as_j": re.compile(r"j|dg|g[eiy]"),
    "vowel_before_s": re.compile(r"^[aeiou]+ ?s"),
}


def heard_agrees(kind: TipKind, heard: str | None) -> bool:
    """Whether the recogniser's spelling of the word (``heard``, lower-cased, digraphs
    such as "th" and "sh" left out) has the sound the phone stage heard: a "w" for v
    said as w, a "t" (not in "th") for th said as t, "j" or a soft "g" for z said as j,
    a leading vowel before "s" for an inserted vowel, no "h" for a dropped h."""
    if not heard:
        return False
    text = heard.lower()
    if kind == "no_h":
        return "h" not in _DIGRAPHS.sub("", text)
    if kind == "vowel_before_s":
        return bool(_SPELT[kind].search(text))
    return bool(_SPELT[kind].search(_DIGRAPHS.sub("", text)))


def sound_tip(assessment: Assessment, *, spelling: bool = False) -> SoundTip | None:
    """The tip for the first target word (in sentence order) that the assessment marked
    mispronounced and whose phones (``assessment.phones``) include a flagged phone with a
    typical confusion (with ``spelling``, also one whose recogniser spelling agrees:
    :func:`heard_agrees`); ``None`` when there is none or the phone stage did not run."""
    for result, phones in assessment.word_phones():
        if result.status is not WordStatus.MISPRONOUNCED or phones is None:
            continue
        count = len(phones.phones)
        for index, phone in enumerate(phones.phones):
            if phone.status == "ok":
                continue
            kind = _kind(phone.phone, phone.heard, index == 0)
            if kind is None or (spelling and not heard_agrees(kind, result.heard)):
                continue
            position: Position = (
                "first" if index == 0 else "last" if index == count - 1 else "middle"
            )
            return SoundTip(result.word, kind, position)
    return None


# The sound said, as the learner knows it (letters, not phonetic symbols).
_TARGET: Final[dict[TipKind, str]] = {
    "v_as_w": "v",
    "w_as_v": "w",
    "th_as_t": "th",
    "dh_as_d": "th",
    "z_as_j": "z",
    "vowel_before_s": "s",
    "no_h": "h",
}
_HEARD: Final[dict[TipKind, str]] = {
    "v_as_w": "w",
    "w_as_v": "v",
    "th_as_t": "t",
    "dh_as_d": "d",
    "z_as_j": "j",
}

_HOW_EN: Final[dict[TipKind, str]] = {
    "v_as_w": "For 'v', touch your top teeth to your lower lip and let the air buzz.",
    "w_as_v": "For 'w', round your lips as for 'oo' and keep your teeth off your lip.",
    "th_as_t": "For 'th', put the tip of your tongue between your teeth and blow gently.",
    "dh_as_d": "For 'th' here, put your tongue tip between your teeth and let your voice buzz.",
    "z_as_j": "For 'z', keep your tongue just behind your top teeth and buzz like a bee.",
    "vowel_before_s": "Start straight on the hiss of 's', with no vowel before it.",
    "no_h": "For 'h', breathe out softly first, as if fogging a mirror.",
}

_WHERE_EN: Final[dict[Position, str]] = {
    "first": "The first sound",
    "last": "The last sound",
    "middle": "A sound in the middle",
}


def english_tip(tip: SoundTip, shown: str) -> str:
    """The tip in English; ``shown`` is the word as the reply shows it."""
    if tip.kind == "vowel_before_s":
        what = f"'{shown}' began with an extra vowel, like 'i{shown.lower()}'."
    elif tip.kind == "no_h":
        what = f"The 'h' in '{shown}' was not heard."
    else:
        what = f"{_WHERE_EN[tip.position]} of '{shown}' came out as '{_HEARD[tip.kind]}'."
    return f"{what} {_HOW_EN[tip.kind]}"


_HOW_UR: Final[dict[TipKind, str]] = {
    "v_as_w": "کے لیے اوپر کے دانت نچلے ہونٹ پر رکھیں اور ہوا کو گونج کے ساتھ نکالیں۔",
    "w_as_v": "کے لیے ہونٹ گول کریں، جیسے 'او' کہتے ہیں، اور دانت ہونٹ کو نہ لگائیں۔",
    "th_as_t": "کے لیے زبان کی نوک دانتوں کے بیچ رکھیں اور آہستہ سے ہوا نکالیں۔",
    "dh_as_d": "کے لیے زبان کی نوک دانتوں کے بیچ رکھیں اور آواز کو گونجنے دیں۔",
    "z_as_j": "کے لیے زبان کو اوپر کے دانتوں کے ذرا پیچھے رکھیں اور 'ز' کی طرح بھنبھنائیں۔",
    "vowel_before_s": "کی سِس والی آواز سے سیدھا شروع کریں، اس سے پہلے 'اِ' نہ لگائیں۔",
    "no_h": "بولنے سے پہلے ہلکی سی سانس باہر نکالیں، جیسے ٹھنڈے شیشے پر بھاپ ڈالتے ہیں۔",
}

_WHERE_UR: Final[dict[Position, str]] = {
    "first": "کی پہلی آواز",
    "last": "کی آخری آواز",
    "middle": "کے بیچ کی ایک آواز",
}


def urdu_tip(tip: SoundTip, shown: str) -> tuple[tuple[Language, str], ...]:
    """The tip in Urdu as (language, text) runs: the English word and letters are
    English runs (the English voice says them), the rest Urdu."""
    word: tuple[Language, str] = ("en", f"'{shown}'")
    sound: tuple[Language, str] = ("en", f"'{_TARGET[tip.kind]}'")
    if tip.kind == "vowel_before_s":
        return (
            word,
            ("ur", " کے شروع میں ایک اضافی آواز آ گئی، جیسے "),
            ("en", f"'i{shown.lower()}'"),
            ("ur", "۔ "),
            sound,
            ("ur", " " + _HOW_UR[tip.kind]),
        )
    if tip.kind == "no_h":
        return (
            word,
            ("ur", " میں "),
            sound,
            ("ur", " کی آواز سنائی نہیں دی۔ "),
            sound,
            ("ur", " کے لیے " + _HOW_UR[tip.kind]),
        )
    return (
        word,
        ("ur", f" {_WHERE_UR[tip.position]} "),
        ("en", f"'{_HEARD[tip.kind]}'"),
        ("ur", " جیسی نکلی۔ "),
        sound,
        ("ur", " " + _HOW_UR[tip.kind]),
    )
