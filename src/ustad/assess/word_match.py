"""How alike a heard word is to a target word: the same, a near-miss, or another word.

* ``SAME``: the recogniser heard this word; spelling may differ but the sound does not
  (to/two/too, for/four, there/their, right/write, Tai/tie).
* ``NEAR``: a phonetic near-miss (bat/bit, walk/work, ship/sheep).
* ``DIFFERENT``: another word.

Sameness comes from a small homophone table and the spelling-to-sound key of
:mod:`ustad.assess.sound_keys`; near-misses from the looser consonant key and character
similarity (rapidfuzz). Words are compared as given (normalised lower-case tokens).
"""

from __future__ import annotations

from enum import StrEnum

from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein

from ustad.assess.sound_keys import consonant_key, sound_key

NEAR_SIMILARITY = 0.65
"""Character or sound-key similarity (0-1) from which two words count as a near-miss."""
NEAR_SKELETON_LENGTH = 2
NEAR_SKELETON_SIMILARITY = 0.4
"""Words with consonant skeletons of at least this length, one edit apart, are a
near-miss from this similarity on (walks/works)."""

HOMOPHONE_GROUPS: tuple[frozenset[str], ...] = tuple(
    frozenset(group.split())
    for group in (
        "to two too",
        "for four fore",
        "there their",
        "your yore",
        "one won",
        "i eye aye",
        "by buy bye",
        "our hour",
        "son sun",
        "whole hole",
        "would wood",
        "pair pear pare",
        "bear bare",
        "hear here",
        "dear deer",
        "where wear ware",
        "whether weather",
        "which witch",
        "flour flower",
        "allowed aloud",
        "new knew gnu",
        "no know",
        "not knot",
        "wait weight",
        "right write rite",
        "sea see",
        "be bee",
        "so sew sow",
        "tie tai thai",
        "mike mic",
        "mary marry merry",
        "ate eight",
        "been bin",
        "break brake",
        "buy by",
        "cell sell",
        "cent sent scent",
        "die dye",
        "fair fare",
        "hi high",
        "him hymn",
        "in inn",
        "lead led",
        "made maid",
        "mail male",
        "meat meet",
        "night knight",
        "pain pane",
        "peace piece",
        "plain plane",
        "read red",
        "road rode rowed",
        "role roll",
        "sail sale",
        "some sum",
        "stair stare",
        "steal steel",
        "tail tale",
        "threw through",
        "way weigh",
        "week weak",
        "wheel weal",
        "blue blew",
        "heard herd",
        "passed past",
        "board bored",
        "course coarse",
        "hey hay",
        "oh owe",
        "wore war",
        "till til",
        "whose whos",
        "t tea tee",
        "y why",
        "u you ewe",
        "q queue cue",
    )
)


FUNCTION_WORDS: frozenset[str] = frozenset(
    word
    for group in (
        "a an the this that these those some any each every such",
        "i me my mine you your yours he him his she her hers it its we us our ours",
        "they them their theirs myself yourself himself herself itself ourselves themselves",
        "am is are was were be been being do does did have has had",
        "will would shall should can could may might must",
        "to of in on at by for from with about into onto over under up down out off as than",
        "and or but so if then because while when where what which who whom whose how",
        "there here too also very just only all both either neither",
        "oh ah well yes please",
    )
    for word in group.split()
)
"""Closed-class words (articles, pronouns, auxiliaries, prepositions, conjunctions,
a few particles): a slip on one of them rarely changes what a sentence means, and
tiny.en drops or swaps them often in learner speech. Every other token, numbers and
"not"/"no" included, is a content word."""


_EDGES = ".,;:!?\"'()[]{}“”‘’«»…-–—"


def is_content_word(token: str) -> bool:
    """Whether a normalised token carries the meaning of a sentence (not a function word)."""
    return token not in FUNCTION_WORDS


def target_names(target: str) -> frozenset[str]:
    """Written words of ``target`` that are names: capitalised inside a sentence.

    "This is Ali speaking." -> {"Ali"}. "I", abbreviations in capitals ("TV", "WiFi")
    and words after ".", "?" or "!" are not names; a target in capitals throughout has
    none that can be told apart.
    """
    letters = [ch for ch in target if ch.isalpha()]
    if not letters or all(ch.isupper() for ch in letters):
        return frozenset()
    found: set[str] = set()
    starts = True
    for raw in target.split():
        word = raw.strip(_EDGES)
        if not starts and len(word) > 1 and word[0].isupper() and word[1:].islower():
            found.add(word)
        starts = raw.rstrip("\"')]”’").endswith((".", "?", "!", ":")) if word else starts
    return frozenset(found)


def same_onset(target: str, heard: str) -> bool:
    """Whether two words start with the same sound class (both a vowel, or one consonant).

    A name heard as a near-miss counts only then: "Ayesha"/"Aisha" and "Ramadan"/
    "Ramzan" do, "Monday"/"Sunday" and "Lahore"/"whore" do not (measured with Piper
    reading another name than the target's, in the voice self-check tests).
    """
    a, b = consonant_key(target), consonant_key(heard)
    return bool(a) and bool(b) and a[0] == b[0]


class MatchKind(StrEnum):
    """How alike a target word and a heard word are."""

    SAME = "same"
    NEAR = "near"
    DIFFERENT = "different"


def _homophones(a: str, b: str) -> bool:
    return any(a in group and b in group for group in HOMOPHONE_GROUPS)


def similarity(target: str, heard: str) -> float:
    """How alike two words look and sound, from 0 to 1."""
    if target == heard:
        return 1.0
    spelled = fuzz.ratio(target, heard) / 100.0
    sounded = fuzz.ratio(sound_key(target), sound_key(heard)) / 100.0
    return max(spelled, sounded)


def compare_words(target: str, heard: str) -> MatchKind:
    """Whether ``heard`` is the target word, a near-miss of it, or another word."""
    if target == heard or _homophones(target, heard):
        return MatchKind.SAME
    target_key, heard_key = sound_key(target), sound_key(heard)
    if target_key and target_key == heard_key:
        return MatchKind.SAME
    loose, heard_loose = consonant_key(target), consonant_key(heard)
    if len(loose) > 1 and loose == heard_loose:
        return MatchKind.NEAR  # same consonants, other vowel: bat/bit, ship/sheep
    sim = similarity(target, heard)
    if (
        min(len(loose.lstrip("A")), len(heard_loose.lstrip("A"))) >= NEAR_SKELETON_LENGTH
        and Levenshtein.distance(loose, heard_loose) <= 1
        and sim >= NEAR_SKELETON_SIMILARITY
    ):
        return MatchKind.NEAR  # one consonant off in a longer word: walks/works
    return MatchKind.NEAR if sim >= NEAR_SIMILARITY else MatchKind.DIFFERENT
