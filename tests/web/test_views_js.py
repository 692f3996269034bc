"""The web client's reading of a word's phones (js/views.js ``phoneNotes``) under Node:
only a word that needs work shows its sounds, flagged ones marked, with what was heard."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

VIEWS_JS = Path(__file__).resolve().parents[2] / "src" / "ustad" / "web" / "static" / "js"

SCRIPT = """
const { phoneNotes } = await import(process.argv.at(-1));
const words = JSON.parse(process.argv.at(-2));
console.log(JSON.stringify(words.map(phoneNotes)));
"""


def phone(arpabet: str, status: str = "ok", heard: str = "") -> dict[str, Any]:
    return {"phone": arpabet, "start": 0.0, "end": 0.1, "gop": 0.0, "score": 90,
            "status": status, "heard": heard}  # fmt: skip


WORDS = [
    {"word": "very", "status": "mispronounced",
     "phones": [phone("V", "mispronounced", "W"), phone("EH"), phone("R"), phone("IY")]},
    {"word": "house", "status": "mispronounced",
     "phones": [phone("HH", "missing"), phone("AW"), phone("S")]},
    {"word": "school", "status": "mispronounced",
     "phones": [phone("S", "mispronounced", "IH S"), phone("K"), phone("UW"), phone("L")]},
    {"word": "good", "status": "correct", "phones": [phone("G", "mispronounced", "K")]},
    {"word": "rice", "status": "mispronounced"},
    {"word": "uh", "status": "inserted"},
]  # fmt: skip


@pytest.fixture(scope="module")
def notes() -> list[Any]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    done = subprocess.run(
        [node, "--input-type=module", "-", json.dumps(WORDS), (VIEWS_JS / "views.js").as_uri()],
        input=SCRIPT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    found: list[Any] = json.loads(done.stdout)
    return found


def test_a_flagged_sound_is_marked_with_what_was_heard(notes: list[Any]) -> None:
    very = notes[0]
    assert [p["text"] for p in very["phones"]] == ["v", "e", "r", "ee"]
    assert [p["flagged"] for p in very["phones"]] == [True, False, False, False]
    assert very["notes"] == ["v heard as w"]


def test_a_dropped_sound_and_an_added_vowel_are_told_apart(notes: list[Any]) -> None:
    assert notes[1]["notes"] == ["h not heard"]
    assert notes[2]["notes"] == ["extra i before s"]


def test_only_words_that_need_work_and_have_phones_show_them(notes: list[Any]) -> None:
    assert notes[3:] == [None, None, None]
