"""Word alignment of what was heard against the target.

A weighted Levenshtein (Needleman-Wunsch) alignment over normalised tokens. The
substitution cost depends on how alike the two words are (see
:mod:`ustad.assess.word_match`): a word heard as itself or a homophone (``SAME``) costs
nothing, a phonetic near-miss (``NEAR``) is a cheaper substitution, flagged as
mispronounced, than another word (``DIFFERENT``). Two extra moves pair two words on one
side with one on the other: a compound split differently ("everyone" / "every one",
"maybe" / "may be") matches, and a word heard as two ("tennis" / "10 years") is one
near-miss rather than a miss plus an extra word. Numbers heard as digits are expanded
to the reading (see :mod:`ustad.assess.numbers`) that aligns best.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from ustad.assess.normalize import Token
from ustad.assess.word_match import MatchKind, compare_words, similarity

OMIT_COST = 1.0
INSERT_COST = 1.0
MAX_SUBSTITUTE_COST = 1.0
JOIN_COST = 0.01
"""A compound joined differently ("everyone" / "every one"): nearly free, but a
one-to-one match is preferred when both fit."""
SPLIT_COST = 0.1
"""Extra cost of a near-miss across a word boundary, over a one-to-one near-miss."""
CONTRACTED = frozenset({"is", "has"})
"""Words a transcript may write as "'s" on the word before ("Dinner's ready"); the
normaliser drops the apostrophe, so "dinners" is taken as "dinner is"."""
MAX_READING_TRIALS = 64
"""Alignments tried while choosing number readings (bounds the work on long transcripts)."""


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


def substitute_cost(kind: MatchKind, sim: float) -> float:
    """Cost of pairing two words: free when the same, cheaper the more alike they are."""
    if kind is MatchKind.SAME:
        return 0.0
    return MAX_SUBSTITUTE_COST * (1.0 - 0.6 * sim)


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
        if move == (2, 1) and target[i + 1] in CONTRACTED and b == f"{target[i]}s":
            # "The teacher is" heard as "The teacher's" (normalised "teachers").
            return _Cell(grid[i][j].cost + JOIN_COST, move, Op.MATCH, MatchKind.SAME, 1.0)
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
