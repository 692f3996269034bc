"""Attempts that say the opposite of the target: "I am happy" said as "I am not happy".

Negations and a few opposite pairs are short, closed-class words, so an attempt that
adds, drops or swaps one can still score high on words alone, yet it teaches the
learner the reverse of the sentence. An attempt is judged to flip the meaning when a
polarity word of the target is not heard, a polarity word is heard that the target
does not have, or a word is heard as its opposite ("on" for "off", "no" for "yes").
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from ustad.assess.align import Alignment, Op
from ustad.assess.normalize import NormalizedTarget

POLARITY_WORDS: frozenset[str] = frozenset(
    {"not", "no", "never", "nothing", "nobody", "none", "nor", "nowhere", "neither"}
)
"""Words that turn a statement into its negation (contractions are already expanded:
"can't" is "can not")."""

OPPOSITES: frozenset[frozenset[str]] = frozenset(
    frozenset(pair.split())
    for pair in (
        "yes no",
        "on off",
        "up down",
        "in out",
        "always never",
        "before after",
        "open close",
        "come go",
        "left right",
    )
)
"""Pairs of closed-class (or near) words whose swap reverses what is said."""


def _polar(words: Sequence[str]) -> bool:
    return any(word in POLARITY_WORDS for word in words)


ADDED_NEGATION_CONFIDENCE = 0.5
"""Least recogniser confidence (0-1) of a negation heard where the target has none for
it to fail the attempt: tiny.en writes a stray "isn't" for a robotic "is" ("where isn't
that washroom?" at espeak-ng's 150 wpm), and nothing else can vouch that a word was
not said."""


def meaning_flipped(
    alignment: Alignment,
    target: NormalizedTarget,
    accepted: Collection[int] = (),
    confidence: Sequence[float] = (),
) -> bool:
    """Whether the attempt adds, drops or swaps a negation or an opposite.

    ``target``'s tokens are what ``Alignment.steps`` index; ``accepted`` are target
    token indices judged said on other evidence (the audio's support for the target),
    which are not counted as dropped or swapped. ``confidence[s]`` is the recogniser's
    confidence in transcript word ``s`` (``HeardToken.source``; none given: all sure);
    an added negation counts only at :data:`ADDED_NEGATION_CONFIDENCE` or more.
    """
    tokens = [token.text for token in target.tokens]
    heard = [token.text for token in alignment.heard]
    sure = [
        h.source >= len(confidence) or confidence[h.source] >= ADDED_NEGATION_CONFIDENCE
        for h in alignment.heard
    ]
    for step in alignment.steps:
        wanted = [tokens[i] for i in step.target if i not in accepted]
        got = [heard[j] for j in step.heard]
        if step.op is Op.OMIT and _polar(wanted):
            return True
        if step.op is Op.INSERT and any(heard[j] in POLARITY_WORDS and sure[j] for j in step.heard):
            return True
        if step.op is Op.SUBSTITUTE and wanted:
            if _polar(wanted) != _polar(got):
                return True
            if any(frozenset((a, b)) in OPPOSITES for a in wanted for b in got):
                return True
    return False
