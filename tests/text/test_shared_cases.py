"""The shared failing cases of what the tutor's voice must say (``cases/speech-text.tsv``)."""

from __future__ import annotations

import csv
import re

from tests.conftest import shared_data_dir
from ustad.text.english import spoken_english

SPEECH_TEXT = shared_data_dir().parent / "cases" / "speech-text.tsv"


def comparable(text: str) -> str:
    """Case and punctuation dropped (hyphens and other marks become spaces)."""
    return " ".join(re.sub(r"[^\w']+", " ", text.lower()).split())


def speech_cases() -> list[tuple[str, str]]:
    with SPEECH_TEXT.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    return [(text, heard) for text, heard in rows[1:]]


def test_every_line_is_said_as_it_must_be_heard() -> None:
    cases = speech_cases()
    assert len(cases) >= 8
    wrong = [
        (text, spoken_english(text), heard)
        for text, heard in cases
        if comparable(spoken_english(text)) != comparable(heard)
    ]
    assert not wrong
