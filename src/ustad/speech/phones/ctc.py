"""CTC forced alignment (Viterbi) and likelihood (forward algorithm) in numpy.

The topology is CTC's (Graves et al., ICML 2006): a label sequence of length K becomes
2K + 1 states, blanks between and around the labels; each frame stays in its state,
moves to the next, or skips a blank between two different labels. Inputs are natural
log-probabilities per frame; outputs natural log-likelihoods.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

__all__ = ["ctc_forward", "ctc_viterbi", "label_emissions"]

FloatArray = npt.NDArray[np.float64]
_NEG: float = -1e30


def label_emissions(blank: FloatArray, labels: FloatArray) -> FloatArray:
    """State emissions for CTC: ``blank`` (..., T) and ``labels`` (..., T, K) log-probs
    give (..., T, 2K + 1), blanks at even states, label k at state 2k + 1."""
    shape = (*labels.shape[:-1], 2 * labels.shape[-1] + 1)
    out = np.empty(shape, dtype=np.float64)
    out[..., 0::2] = blank[..., None]
    out[..., 1::2] = labels
    return out


def _skips(labels: Sequence[Sequence[str]]) -> npt.NDArray[np.bool_]:
    """(B, S) mask of states that may be entered by skipping the blank before them."""
    count = len(labels[0])
    mask = np.zeros((len(labels), 2 * count + 1), dtype=bool)
    for b, seq in enumerate(labels):
        for k in range(1, count):
            mask[b, 2 * k + 1] = seq[k] != seq[k - 1]
    return mask


def ctc_forward(emissions: FloatArray, labels: Sequence[Sequence[str]]) -> FloatArray:
    """Log-likelihood of each of B label sequences over the same frames.

    ``emissions`` is (B, T, 2K + 1) from :func:`label_emissions`, ``labels`` the B
    sequences (all of length K, used to tell repeated labels apart). The path may start
    in the first blank or label and end in the last label or blank. Returns (B,);
    ``-1e30`` where the frames are too few for the sequence. K = 0 is all blank.
    """
    batch, frames, states = emissions.shape
    if frames == 0:
        return np.full(batch, 0.0 if states == 1 else _NEG)
    skip = _skips(labels) if states > 1 else np.zeros((batch, 1), dtype=bool)
    alpha = np.full((batch, states), _NEG)
    alpha[:, 0] = emissions[:, 0, 0]
    if states > 1:
        alpha[:, 1] = emissions[:, 0, 1]
    for t in range(1, frames):
        stay = alpha
        step = np.full_like(alpha, _NEG)
        step[:, 1:] = alpha[:, :-1]
        jump = np.full_like(alpha, _NEG)
        jump[:, 2:] = np.where(skip[:, 2:], alpha[:, :-2], _NEG)
        alpha = np.logaddexp(np.logaddexp(stay, step), jump) + emissions[:, t]
    ends = alpha[:, -1] if states == 1 else np.logaddexp(alpha[:, -1], alpha[:, -2])
    result: FloatArray = np.maximum(ends, _NEG)
    return result


def ctc_viterbi(emissions: FloatArray, labels: Sequence[str]) -> tuple[float, list[int], list[int]]:
    """Best CTC path of one label sequence: (its log-likelihood, starts, ends).

    ``emissions`` is (T, 2K + 1) from :func:`label_emissions`. Label k occupies frames
    ``starts[k]`` to ``ends[k] - 1``; blank frames between labels belong to none.
    Raises ``ValueError`` when T is fewer frames than the sequence needs (K plus one
    per repeated neighbour) or K = 0.
    """
    frames, states = emissions.shape
    count = len(labels)
    repeats = sum(1 for k in range(1, count) if labels[k] == labels[k - 1])
    if count == 0 or frames < count + repeats:
        raise ValueError(f"{frames} frames cannot hold {count} labels")
    skip = _skips([labels])[0]
    delta = np.full(states, _NEG)
    delta[0] = emissions[0, 0]
    delta[1] = emissions[0, 1]
    back = np.zeros((frames, states), dtype=np.int8)
    for t in range(1, frames):
        step = np.full(states, _NEG)
        step[1:] = delta[:-1]
        jump = np.full(states, _NEG)
        jump[2:] = np.where(skip[2:], delta[:-2], _NEG)
        stacked = np.stack((delta, step, jump))
        choice = np.argmax(stacked, axis=0)
        back[t] = choice
        delta = stacked[choice, np.arange(states)] + emissions[t]
    state = states - 1 if delta[-1] >= delta[-2] else states - 2
    best = float(delta[state])
    starts = [0] * count
    ends = [0] * count
    for t in range(frames - 1, -1, -1):
        if state % 2 == 1:
            if ends[state // 2] == 0:
                ends[state // 2] = t + 1
            starts[state // 2] = t
        state -= int(back[t, state])
    return best, starts, ends
