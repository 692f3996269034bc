"""Word alignment of what was heard against the target.

A weighted Levenshtein (Needleman-Wunsch) alignment over normalised tokens. The
substitution cost depends on how alike the two words are:

* ``SAME``: the recogniser heard this word; spelling may differ but the sound does not
  (to/two/too, for/four, there/their, right/write, Tai/tie). Costs nothing.
* ``NEAR``: a phonetic near-miss (bat/bit, walk/work, ship/sheep): aligned as a
  substitution, flagged as mispronounced.
* ``DIFFERENT``: another word.

Sameness comes from a small homophone table and a spelling-to-sound key
(:func:`sound_key`, a Metaphone-like code that keeps rough vowel classes); near-misses
from a looser consonant key (:func:`consonant_key`) and character similarity
(rapidfuzz). Two extra moves pair two words on one side with one on the other: a
compound split differently ("everyone" / "every one", "maybe" / "may be") matches, and
a word heard as two ("tennis" / "10 years") is one near-miss rather than a miss plus an
extra word. Numbers heard as digits are expanded to the reading (see
:mod:`ustad.assess.numbers`) that aligns best.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein

from ustad.assess.normalize import Token

OMIT_COST = 1.0
INSERT_COST = 1.0
MAX_SUBSTITUTE_COST = 1.0
JOIN_COST = 0.01
"""A compound joined differently ("everyone" / "every one"): nearly free, but a
one-to-one match is preferred when both fit."""
SPLIT_COST = 0.1
"""Extra cost of a near-miss across a word boundary, over a one-to-one near-miss."""
MAX_READING_TRIALS = 64
"""Alignments tried while choosing number readings (bounds the work on long transcripts)."""
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


class Op(StrEnum):
    """One step of an alignment."""

    MATCH = "match"
    """The target token(s) were heard (``MatchKind.SAME``)."""
    SUBSTITUTE = "substitute"
    """Another word was heard in place of the target token."""
    OMIT = "omit"
    """The target token was not heard."""
    INSERT = "insert"
    """A heard token with no target counterpart."""


@dataclass(frozen=True)
class Step:
    """Target tokens and heard tokens paired by one alignment step (indices)."""

    op: Op
    target: tuple[int, ...]
    heard: tuple[int, ...]
    kind: MatchKind | None = None
    similarity: float = 0.0
    """How alike the paired words are (0-1); 1 for a match, 0 for an omission or insertion."""


@dataclass(frozen=True)
class HeardToken:
    """A heard token after numbers are resolved to words."""

    text: str
    source: int
    """Index of the transcript word it came from."""
    from_number: bool = False


@dataclass(frozen=True)
class Alignment:
    """The best alignment of the heard tokens against the target tokens."""

    steps: tuple[Step, ...]
    heard: tuple[HeardToken, ...]
    cost: float


# --- sound keys ---------------------------------------------------------------------

_VOWELS = "aeiouy"
_INITIAL_FIXES: tuple[tuple[str, str], ...] = (
    ("kn", "n"),
    ("gn", "n"),
    ("pn", "n"),
    ("ps", "s"),
    ("wr", "r"),
    ("wh", "w"),
    ("x", "z"),
)
# Vowel spellings -> rough vowel class (lower case, so they never clash with consonants).
_VOWEL_GROUPS: dict[str, str] = {
    "a": "a",
    "e": "e",
    "i": "i",
    "o": "o",
    "u": "u",
    "y": "i",
    "ai": "ey",
    "ay": "ey",
    "ei": "ey",
    "ey": "ey",
    "eigh": "ey",
    "ea": "iy",
    "ee": "iy",
    "ie": "iy",
    "eo": "iy",
    "igh": "ay",
    "uy": "ay",
    "oa": "ow",
    "oe": "ow",
    "ough": "o",
    "augh": "ao",
    "oo": "uw",
    "ou": "aw",
    "ue": "uw",
    "ew": "uw",
    "ui": "uw",
    "eu": "uw",
    "au": "ao",
    "aw": "ao",
    "oi": "oy",
    "oy": "oy",
    "ow": "aw",
    "eau": "ow",
}
_LONG_VOWELS: dict[str, str] = {"a": "ey", "e": "iy", "i": "ay", "o": "ow", "u": "uw", "y": "ay"}
_R_COLOURED: frozenset[str] = frozenset({"e", "i", "u"})
# Frequent words whose spelling misleads the rules (keys written as the rules would).
_KEY_EXCEPTIONS: dict[str, str] = {
    "a": "a",
    "the": "0a",
    "to": "Tuw",
    "two": "Tuw",
    "too": "Tuw",
    "do": "Duw",
    "who": "Huw",
    "you": "Yuw",
    "your": "YoR",
    "of": "aV",
    "one": "WaN",
    "won": "WaN",
    "once": "WaNS",
    "come": "KaM",
    "some": "SaM",
    "done": "DaN",
    "none": "NaN",
    "love": "LaV",
    "from": "FRaM",
    "what": "WaT",
    "was": "WaZ",
    "does": "DaZ",
    "are": "aR",
    "were": "WerR",
    "where": "WeR",
    "there": "0eR",
    "their": "0eR",
    "have": "HaV",
    "give": "GiV",
    "gone": "GoN",
    "could": "KuD",
    "would": "WuD",
    "should": "XuD",
    "said": "SeD",
    "says": "SeZ",
    "again": "aGeN",
    "any": "eNiy",
    "many": "MeNiy",
    "eye": "ay",
    "people": "PiyPL",
    "friend": "FReND",
    "four": "FoR",
    "great": "GReyT",
    "break": "BReyK",
    "been": "BiN",
    "through": "0Ruw",
    "though": "0ow",
}
_VOICED_TO_VOICELESS = str.maketrans({"B": "P", "D": "T", "G": "K", "V": "F", "Z": "S", "J": "X"})
_VOWEL_RUN_RE = re.compile(r"[aeiou]*y(?![aeiou])|ye$|[aeiou]+")


def _consonant_code(w: str, i: int) -> tuple[str, int]:
    """The sound code of the consonant(s) at ``w[i]`` and how many letters they use."""
    ch = w[i]
    nxt = w[i + 1] if i + 1 < len(w) else ""
    after = w[i + 2] if i + 2 < len(w) else ""
    if ch == "b":
        return ("", 1) if i > 0 and w[i - 1] == "m" and i == len(w) - 1 else ("B", 1)
    if ch == "c":
        if nxt == "h":
            return "X", 2
        if nxt == "k":
            return "K", 2
        if nxt in ("e", "i", "y"):
            return "S", 1
        return "K", 1
    if ch == "s" and nxt == "c" and after in ("e", "i", "y"):
        return "S", 2
    if ch == "d":
        if nxt == "g" and after in ("e", "i", "y"):
            return "J", 2
        return "D", 1
    if ch == "g":
        if nxt == "h":
            return ("G", 2) if i == 0 else ("", 2)
        if nxt == "n" and i + 2 >= len(w):
            return "N", 2
        if nxt in ("e", "i", "y"):
            return "J", 1
        return "G", 1
    if ch == "h":
        return ("H", 1) if nxt and nxt in _VOWELS else ("", 1)
    if ch == "p":
        return ("F", 2) if nxt == "h" else ("P", 1)
    if ch == "q":
        return ("KW", 2) if nxt == "u" else ("K", 1)
    if ch == "s":
        if nxt == "h":
            return "X", 2
        if nxt == "i" and after in ("o", "a"):
            return "X", 2
        return "S", 1
    if ch == "t":
        if nxt == "h":
            return "0", 2
        if nxt == "i" and after in ("o", "a"):
            return "X", 2
        if nxt == "c" and after == "h":
            return "X", 3
        return "T", 1
    if ch == "w":
        return ("W", 1) if nxt and nxt in _VOWELS else ("", 1)
    if ch == "x":
        return "KS", 1
    if ch == "y":
        return "Y", 1
    return ch.upper(), 1


def _vowel_code(w: str, start: int, end: int) -> tuple[str, int]:
    """Class of the vowel spelling ``w[start:end]`` (may swallow a silent "gh" or "w")."""
    group = w[start:end]
    if w.startswith("gh", end) and group + "gh" in _VOWEL_GROUPS:
        return _VOWEL_GROUPS[group + "gh"], end + 2
    if (
        group in ("a", "e", "o")
        and end < len(w)
        and w[end] == "w"
        and (end + 1 == len(w) or w[end + 1] not in _VOWELS)
    ):
        return _VOWEL_GROUPS[group + "w"], end + 1
    if group == "i" and w.startswith("gh", end):
        return "ay", end + 2
    only_vowel = not any(c in _VOWELS for c in w[:start] + w[end:])
    at_end = end == len(w)
    if len(group) == 1:
        rest = w[end:]
        # Magic e: "made", "mike", "rode" (one consonant, then a final e).
        if re.fullmatch(r"[b-df-hj-np-tv-z]es?|[b-df-hj-np-tv-z]ed", rest):
            return _LONG_VOWELS[group], end
        if at_end and (only_vowel or group == "y"):
            return (_LONG_VOWELS[group] if only_vowel else "iy"), end
        if (
            group in _R_COLOURED
            and rest.startswith("r")
            and (len(rest) == 1 or rest[1] not in _VOWELS)
        ):
            return "er", end
        return _VOWEL_GROUPS[group], end
    if group in ("ie", "ye") and at_end:
        return "ay", end
    if group in _VOWEL_GROUPS:
        return _VOWEL_GROUPS[group], end
    # An unusual run ("oui", "iou"): its first two letters decide.
    return _VOWEL_GROUPS.get(group[:2], _VOWEL_GROUPS[group[0]]), end


def sound_key(word: str) -> str:
    """A spelling-to-sound code: consonants in upper case, vowel classes in lower case.

    Words that sound alike get the same key (right/write, meet/meat, which/witch,
    know/no) while minimal pairs keep theirs apart (ship/sheep, bat/bit). English
    spelling is irregular, so this is a heuristic; :data:`HOMOPHONE_GROUPS` covers
    common words it gets wrong.
    """
    w = "".join(ch for ch in word.lower() if ch.isalpha())
    if not w:
        return ""
    if w in _KEY_EXCEPTIONS:
        return _KEY_EXCEPTIONS[w]
    for prefix, replacement in _INITIAL_FIXES:
        if w.startswith(prefix) and len(w) > len(prefix):
            w = replacement + w[len(prefix) :]
            break
    codes: list[str] = []
    i = 0
    while i < len(w):
        run = _VOWEL_RUN_RE.match(w, i) if not (w[i] == "y" and i == 0) else None
        silent_e = w[i] == "e" and i == len(w) - 1 and any(c in _VOWELS for c in w[:i])
        if silent_e:
            code, i = "", i + 1  # "made": the e only lengthens the vowel before it
        elif run:
            code, i = _vowel_code(w, i, run.end())
        elif i > 0 and w[i] == w[i - 1] and w[i] not in _VOWELS:
            code, i = "", i + 1  # double consonant
        else:
            code, used = _consonant_code(w, i)
            i += used
        if code and not (codes and codes[-1] == code):
            codes.append(code)
    return "".join(codes)


def consonant_key(word: str) -> str:
    """A loose key: the consonant skeleton with voicing merged (for near-misses)."""
    key = sound_key(word)
    if not key:
        return ""
    skeleton = "".join(ch for ch in key if not ch.islower()).translate(_VOICED_TO_VOICELESS)
    start = "A" if key[0].islower() else ""
    return re.sub(r"(.)\1+", r"\1", start + skeleton)


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


def substitute_cost(kind: MatchKind, sim: float) -> float:
    """Cost of pairing two words: free when the same, cheaper the more alike they are."""
    if kind is MatchKind.SAME:
        return 0.0
    return MAX_SUBSTITUTE_COST * (1.0 - 0.6 * sim)


# --- alignment ------------------------------------------------------------------------


class _Comparisons:
    """:func:`compare_words` and :func:`similarity`, memoised for one :func:`align` call.

    Trying the readings of numbers re-aligns the same words many times.
    """

    def __init__(self) -> None:
        self._seen: dict[tuple[str, str], tuple[MatchKind, float]] = {}

    def __call__(self, target: str, heard: str) -> tuple[MatchKind, float]:
        key = (target, heard)
        found = self._seen.get(key)
        if found is None:
            kind = compare_words(target, heard)
            sim = 1.0 if kind is MatchKind.SAME else similarity(target, heard)
            found = self._seen[key] = (kind, sim)
        return found


@dataclass(frozen=True)
class _Cell:
    cost: float
    move: tuple[int, int]  # target tokens, heard tokens used by the step into this cell
    op: Op
    kind: MatchKind | None
    similarity: float = 0.0


def _best_alignment(
    target: Sequence[str], heard: Sequence[str], compare: _Comparisons
) -> tuple[float, list[Step]]:
    n, m = len(target), len(heard)
    inf = float("inf")
    grid = [[_Cell(inf, (0, 0), Op.MATCH, None) for _ in range(m + 1)] for _ in range(n + 1)]
    grid[0][0] = _Cell(0.0, (0, 0), Op.MATCH, None)

    def relax(cell: _Cell, i: int, j: int) -> None:
        # Ties keep the earlier candidate: one-to-one steps are tried first.
        if cell.cost < grid[i][j].cost - 1e-9:
            grid[i][j] = cell

    def joined(i: int, j: int, move: tuple[int, int]) -> _Cell | None:
        """Two words on one side against one on the other, when that fits better."""
        a = "".join(target[i : i + move[0]])
        b = "".join(heard[j : j + move[1]])
        kind, sim = compare(a, b)
        if kind is MatchKind.SAME:
            return _Cell(grid[i][j].cost + JOIN_COST, move, Op.MATCH, kind, 1.0)
        if kind is MatchKind.DIFFERENT:
            return None
        # A near-miss across a boundary only when it beats pairing each part alone.
        for di in range(move[0]):
            for dj in range(move[1]):
                part_kind, part_sim = compare(target[i + di], heard[j + dj])
                if part_kind is MatchKind.SAME or part_sim >= sim:
                    return None
        cost = grid[i][j].cost + substitute_cost(kind, sim) + SPLIT_COST
        return _Cell(cost, move, Op.SUBSTITUTE, kind, sim)

    for i in range(n + 1):
        for j in range(m + 1):
            here = grid[i][j].cost
            if here == inf:
                continue
            if i < n and j < m:
                kind, sim = compare(target[i], heard[j])
                op = Op.MATCH if kind is MatchKind.SAME else Op.SUBSTITUTE
                relax(_Cell(here + substitute_cost(kind, sim), (1, 1), op, kind, sim), i + 1, j + 1)
            if i < n:
                relax(_Cell(here + OMIT_COST, (1, 0), Op.OMIT, None), i + 1, j)
            if j < m:
                relax(_Cell(here + INSERT_COST, (0, 1), Op.INSERT, None), i, j + 1)
            # One word heard as two ("tennis" / "10 years") or two as one ("every one").
            if i + 1 < n and j < m and (cell := joined(i, j, (2, 1))) is not None:
                relax(cell, i + 2, j + 1)
            if i < n and j + 1 < m and (cell := joined(i, j, (1, 2))) is not None:
                relax(cell, i + 1, j + 2)

    steps: list[Step] = []
    i, j = n, m
    while i or j:
        cell = grid[i][j]
        di, dj = cell.move
        target_span, heard_span = tuple(range(i - di, i)), tuple(range(j - dj, j))
        steps.append(Step(cell.op, target_span, heard_span, cell.kind, cell.similarity))
        i, j = i - di, j - dj
    steps.reverse()
    return grid[n][m].cost, steps


def _expand(heard: Sequence[Token], choice: Sequence[int]) -> list[HeardToken]:
    tokens: list[HeardToken] = []
    numbers = 0
    for token in heard:
        if token.is_number:
            reading = token.readings[choice[numbers]]
            numbers += 1
            tokens += [HeardToken(word, token.source, from_number=True) for word in reading]
        else:
            tokens.append(HeardToken(token.text, token.source))
    return tokens


def align(target: Sequence[str], heard: Sequence[Token]) -> Alignment:
    """Align heard tokens against target tokens (normalised words).

    Each number heard as digits is tried in each of its readings, one number at a time
    with the others held fixed (two rounds, at most :data:`MAX_READING_TRIALS`
    alignments), keeping the reading with the lowest cost.
    """
    compare = _Comparisons()
    counts = [len(token.readings) for token in heard if token.is_number]
    choice = [0] * len(counts)

    def cost_of(current: Sequence[int]) -> float:
        words = [token.text for token in _expand(heard, current)]
        return _best_alignment(target, words, compare)[0]

    if choice:
        best = cost_of(choice)
        trials = 1
        for _round, k in itertools.product(range(2), range(len(counts))):
            for option in range(counts[k]):
                if option == choice[k] or trials >= MAX_READING_TRIALS:
                    continue
                trial = [*choice[:k], option, *choice[k + 1 :]]
                trial_cost = cost_of(trial)
                trials += 1
                if trial_cost < best - 1e-9:
                    best, choice = trial_cost, trial
    tokens = _expand(heard, choice)
    cost, steps = _best_alignment(target, [token.text for token in tokens], compare)
    return Alignment(tuple(steps), tuple(tokens), cost)
