"""Fixtures shared by the whole suite."""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path:
    """``../shared/data`` beside the checkout (``USTAD_SHARED_DATA`` overrides)."""
    override = os.environ.get("USTAD_SHARED_DATA")
    return Path(override) if override else REPO_ROOT.parent / "shared" / "data"


@dataclass(frozen=True)
class LearnerClip:
    """A speechocean762 recording and the sentence the learner was asked to read."""

    utt_id: str
    path: Path
    text: str


@dataclass(frozen=True)
class UrduClip:
    """A Common Voice Urdu recording and its sentence."""

    path: Path
    text: str


@pytest.fixture(scope="session")
def shared_data() -> Path:
    path = shared_data_dir()
    if not path.is_dir():
        pytest.fail(f"shared test data not found at {path}; set USTAD_SHARED_DATA")
    return path


@pytest.fixture(scope="session")
def learner_clips(shared_data: Path) -> list[LearnerClip]:
    root = shared_data / "speechocean762"
    with (root / "index.tsv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    return [LearnerClip(r["utt_id"], root / r["file"], r["text"]) for r in rows]


@pytest.fixture(scope="session")
def urdu_clips(shared_data: Path) -> list[UrduClip]:
    root = shared_data / "urdu"
    with (root / "index.tsv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    return [UrduClip(root / r["file"], r["text"]) for r in rows]
