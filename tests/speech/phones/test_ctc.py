"""CTC Viterbi alignment and forward likelihood on made-up posteriors."""

from __future__ import annotations

import numpy as np
import pytest

from ustad.speech.phones.ctc import ctc_forward, ctc_viterbi, label_emissions


def _posteriors(path: list[int], size: int, sure: float = 0.9) -> np.ndarray:
    """Frame log-posteriors over ``size`` symbols (0 = blank) peaked on ``path``."""
    probs = np.full((len(path), size), (1 - sure) / (size - 1))
    probs[np.arange(len(path)), path] = sure
    return np.log(probs)


def test_viterbi_finds_the_labels_where_they_are() -> None:
    # blank blank A A blank B blank blank C
    log_probs = _posteriors([0, 0, 1, 1, 0, 2, 0, 0, 3], 4)
    labels = log_probs[:, [1, 2, 3]]
    _, starts, ends = ctc_viterbi(label_emissions(log_probs[:, 0], labels), ["A", "B", "C"])
    assert starts == [2, 5, 8]
    assert ends == [4, 6, 9]


def test_repeated_labels_need_a_blank_between() -> None:
    log_probs = _posteriors([1, 0, 1], 2)
    emissions = label_emissions(log_probs[:, 0], log_probs[:, [1, 1]])
    assert ctc_viterbi(emissions, ["A", "A"])[1] == [0, 2]
    with pytest.raises(ValueError, match="cannot hold"):
        ctc_viterbi(emissions[:2], ["A", "A"])


def test_forward_sums_paths_and_prefers_the_right_sequence() -> None:
    log_probs = _posteriors([0, 1, 1, 0, 2, 0], 4)
    blank = np.broadcast_to(log_probs[:, 0], (2, 6))
    right = log_probs[:, [1, 2]]
    wrong = log_probs[:, [1, 3]]
    scores = ctc_forward(label_emissions(blank, np.stack([right, wrong])), [("A", "B"), ("A", "C")])
    assert scores[0] > scores[1] + 3
    best, _, _ = ctc_viterbi(label_emissions(log_probs[:, 0], right), ["A", "B"])
    assert scores[0] >= best


def test_forward_of_no_labels_is_all_blank() -> None:
    log_probs = _posteriors([0, 0, 0], 2)
    emissions = label_emissions(log_probs[None, :, 0], log_probs[None, :, :0])
    assert ctc_forward(emissions, [()])[0] == pytest.approx(log_probs[:, 0].sum())
