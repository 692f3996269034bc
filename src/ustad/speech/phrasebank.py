"""The phrase bank: everyday sentences an Urdu speaker wants to say in English.

Stored as ``data/phrases.tsv`` inside the package (columns
``id category urdu roman_urdu english``), loaded and validated once at start-up.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Final

COLUMNS: Final = ("id", "category", "urdu", "roman_urdu", "english")

_ID_RE: Final = re.compile(r"^[a-z]+-\d{3}$")
_ARABIC_LETTER_RE: Final = re.compile("[\u0600-\u06ff]")
_LATIN_LETTER_RE: Final = re.compile("[A-Za-z]")


class PhraseBankError(ValueError):
    """The phrase file is missing, malformed, or has an invalid row."""


@dataclass(frozen=True)
class Phrase:
    """One sentence in Urdu script, as Roman Urdu, and in English."""

    id: str
    category: str
    urdu: str
    roman_urdu: str
    english: str


class PhraseBank:
    """An ordered, validated, read-only collection of phrases."""

    def __init__(self, phrases: list[Phrase]) -> None:
        self._phrases = tuple(phrases)
        self._by_id = {phrase.id: phrase for phrase in self._phrases}
        if len(self._by_id) != len(self._phrases):
            raise PhraseBankError("phrase ids must be unique")

    @classmethod
    def load(cls, path: Path | None = None) -> PhraseBank:
        """Read a phrase TSV; ``None`` reads the bank shipped with the package."""
        if path is None:
            resource = resources.files("ustad.speech").joinpath("data/phrases.tsv")
            return cls._parse(resource.read_text(encoding="utf-8"), "ustad.speech/data/phrases.tsv")
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise PhraseBankError(f"cannot read phrase file {path}: {exc}") from exc
        return cls._parse(text, str(path))

    @classmethod
    def _parse(cls, text: str, source: str) -> PhraseBank:
        lines = text.splitlines()
        if not lines or tuple(lines[0].split("\t")) != COLUMNS:
            raise PhraseBankError(f"{source}:1: header must be {'<TAB>'.join(COLUMNS)}")
        phrases: list[Phrase] = []
        seen: dict[str, dict[str, int]] = {"id": {}, "urdu": {}, "english": {}}
        rows = csv.reader(lines[1:], delimiter="\t", quoting=csv.QUOTE_NONE)
        for line_no, row in enumerate(rows, start=2):
            if not row or all(not cell.strip() for cell in row):
                continue
            phrase = _parse_row(row, f"{source}:{line_no}")
            for field in seen:
                value = getattr(phrase, field)
                if value in seen[field]:
                    raise PhraseBankError(
                        f"{source}:{line_no}: duplicate {field} {value!r} "
                        f"(first on line {seen[field][value]})"
                    )
                seen[field][value] = line_no
            phrases.append(phrase)
        if not phrases:
            raise PhraseBankError(f"{source}: no phrases")
        return cls(phrases)

    def __len__(self) -> int:
        return len(self._phrases)

    def __iter__(self) -> Iterator[Phrase]:
        return iter(self._phrases)

    def __contains__(self, phrase_id: object) -> bool:
        return phrase_id in self._by_id

    def get(self, phrase_id: str) -> Phrase | None:
        """The phrase with this id, or ``None``."""
        return self._by_id.get(phrase_id)

    def categories(self) -> list[str]:
        """Category names in the order they first appear."""
        return list(dict.fromkeys(phrase.category for phrase in self._phrases))

    def in_category(self, category: str) -> list[Phrase]:
        """The phrases of one category, in file order."""
        return [phrase for phrase in self._phrases if phrase.category == category]


def _parse_row(row: list[str], where: str) -> Phrase:
    """Validate one data row; ``where`` is ``file:line`` for the error message."""
    if len(row) != len(COLUMNS):
        raise PhraseBankError(
            f"{where}: expected {len(COLUMNS)} tab-separated fields, got {len(row)}"
        )
    cells = [cell.strip() for cell in row]
    phrase = Phrase(*cells)
    if not _ID_RE.match(phrase.id):
        raise PhraseBankError(f"{where}: bad id {phrase.id!r} (want e.g. 'greet-001')")
    if not phrase.id.startswith(phrase.category + "-"):
        raise PhraseBankError(
            f"{where}: id {phrase.id!r} does not match category {phrase.category!r}"
        )
    if not _ARABIC_LETTER_RE.search(phrase.urdu) or _LATIN_LETTER_RE.search(phrase.urdu):
        raise PhraseBankError(f"{where}: urdu column must be in Urdu script: {phrase.urdu!r}")
    for name in ("roman_urdu", "english"):
        value = getattr(phrase, name)
        if not _LATIN_LETTER_RE.search(value) or _ARABIC_LETTER_RE.search(value):
            raise PhraseBankError(f"{where}: {name} column must be in Latin script: {value!r}")
    if not phrase.english.endswith((".", "?")):
        raise PhraseBankError(f"{where}: english must end with '.' or '?': {phrase.english!r}")
    return phrase
