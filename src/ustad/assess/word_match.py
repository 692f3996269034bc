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
    )
)


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
