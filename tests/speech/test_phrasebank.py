"""The packaged phrase bank and its loader."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from ustad.speech.phrasebank import Phrase, PhraseBank, PhraseBankError
from ustad.speech.urdu_text import matching_key, normalize_urdu, script_of, to_display

HEADER = "id\tcategory\turdu\troman_urdu\tenglish\n"
GOOD_ROW = "food-001\tfood\tمجھے بھوک لگی ہے۔\tMujhe bhook lagi hai\tI am hungry.\n"

EXPECTED_CATEGORIES = {
    "greet",
    "family",
    "food",
    "shop",
    "travel",
    "health",
    "school",
    "work",
    "time",
    "weather",
    "feel",
    "dir",
    "phone",
    "home",
    "polite",
    "question",
}


@pytest.fixture(scope="module")
def bank() -> PhraseBank:
    return PhraseBank.load()


def write(tmp_path: Path, body: str, header: str = HEADER) -> Path:
    path = tmp_path / "phrases.tsv"
    path.write_text(header + body, encoding="utf-8")
    return path


def test_packaged_bank_is_large_enough(bank: PhraseBank) -> None:
    assert len(bank) >= 320
    assert len(list(bank)) == len(bank)


def test_ids_urdu_and_english_are_unique_even_after_normalising(bank: PhraseBank) -> None:
    phrases = list(bank)
    assert len({p.id for p in phrases}) == len(phrases)
    assert len({matching_key(p.urdu) for p in phrases}) == len(phrases)
    english = {re.sub(r"[^a-z ]", "", p.english.lower()) for p in phrases}
    assert len(english) == len(phrases)


def test_every_row_uses_the_right_script(bank: PhraseBank) -> None:
    for phrase in bank:
        assert script_of(phrase.urdu) == "arabic", phrase
        assert script_of(phrase.roman_urdu) == "latin", phrase
        assert script_of(phrase.english) == "latin", phrase


def test_urdu_is_canonical_urdu_script(bank: PhraseBank) -> None:
    for phrase in bank:
        # Urdu letters only: no Arabic yeh/kaf/heh/alef maksura.
        assert not re.search("[يكهىة]", phrase.urdu), phrase
        # Already in display form: normalised, ending in ۔ or ؟.
        assert to_display(normalize_urdu(phrase.urdu)) == phrase.urdu, phrase
        assert 3 <= len(phrase.urdu.split()) <= 10, phrase


def test_english_is_short_simple_sentences(bank: PhraseBank) -> None:
    for phrase in bank:
        assert phrase.english[0].isupper(), phrase
        assert phrase.english.endswith((".", "?")), phrase
        assert not re.search(r"\d", phrase.english), phrase
        assert len(phrase.english.split()) <= 10, phrase


def test_questions_agree_across_the_three_columns(bank: PhraseBank) -> None:
    for phrase in bank:
        is_question = phrase.english.endswith("?")
        assert phrase.urdu.endswith("؟") == is_question, phrase
        assert phrase.roman_urdu.endswith("?") == is_question, phrase


def test_categories(bank: PhraseBank) -> None:
    assert set(bank.categories()) == EXPECTED_CATEGORIES
    assert len(bank.categories()) == len(EXPECTED_CATEGORIES)  # no duplicates
    for category in bank.categories():
        members = bank.in_category(category)
        assert len(members) >= 15, category
        assert all(p.id.startswith(f"{category}-") for p in members)


def test_get(bank: PhraseBank) -> None:
    phrase = bank.get("food-003")
    assert phrase is not None
    assert phrase.english == "I want water."
    assert phrase.urdu == "مجھے پانی چاہیے۔"
    assert "food-003" in bank
    assert bank.get("food-999") is None
    assert "food-999" not in bank


def test_phrase_is_frozen(bank: PhraseBank) -> None:
    phrase = next(iter(bank))
    with pytest.raises(dataclasses.FrozenInstanceError):
        phrase.english = "changed"  # type: ignore[misc]


def test_load_from_path(tmp_path: Path) -> None:
    second = "food-002\tfood\tمجھے پیاس لگی ہے۔\tMujhe pyaas lagi hai\tI am thirsty.\n"
    bank = PhraseBank.load(write(tmp_path, GOOD_ROW + "\n" + second))
    assert [p.id for p in bank] == ["food-001", "food-002"]
    assert bank.get("food-001") == Phrase(
        "food-001", "food", "مجھے بھوک لگی ہے۔", "Mujhe bhook lagi hai", "I am hungry."
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("food-002\tfood\tمجھے پیاس لگی ہے۔\tI am thirsty.\n", "expected 5"),
        ("Food-1\tfood\tمجھے پیاس لگی ہے۔\tMujhe pyaas lagi hai\tI am thirsty.\n", "bad id"),
        ("food-002\tshop\tمجھے پیاس لگی ہے۔\tMujhe pyaas lagi hai\tI am thirsty.\n", "category"),
        ("food-002\tfood\tMujhe pyaas lagi hai\tMujhe pyaas lagi hai\tI am thirsty.\n", "urdu"),
        ("food-002\tfood\tمجھے پیاس لگی ہے۔\tمجھے پیاس\tI am thirsty.\n", "roman_urdu"),
        ("food-002\tfood\tمجھے پیاس لگی ہے۔\tMujhe pyaas lagi hai\tمجھے پیاس\n", "english"),
        ("food-002\tfood\tمجھے پیاس لگی ہے۔\tMujhe pyaas lagi hai\tI am thirsty\n", "end with"),
        (
            "food-001\tfood\tمجھے پیاس لگی ہے۔\tMujhe pyaas lagi hai\tI am thirsty.\n",
            "duplicate id",
        ),
        (
            "food-002\tfood\tمجھے بھوک لگی ہے۔\tMujhe bhook lagi hai\tI am starving.\n",
            "duplicate urdu",
        ),
        (
            "food-002\tfood\tمجھے پیاس لگی ہے۔\tMujhe pyaas lagi hai\tI am hungry.\n",
            "duplicate english",
        ),
    ],
)
def test_bad_row_is_reported_with_its_line(tmp_path: Path, body: str, message: str) -> None:
    path = write(tmp_path, GOOD_ROW + body)
    with pytest.raises(PhraseBankError, match=message) as caught:
        PhraseBank.load(path)
    assert f"{path}:3:" in str(caught.value)


def test_bad_header(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD_ROW, header="id\turdu\tenglish\n")
    with pytest.raises(PhraseBankError, match=r":1: header"):
        PhraseBank.load(path)


def test_empty_and_missing_files(tmp_path: Path) -> None:
    with pytest.raises(PhraseBankError, match="no phrases"):
        PhraseBank.load(write(tmp_path, ""))
    with pytest.raises(PhraseBankError, match="cannot read"):
        PhraseBank.load(tmp_path / "absent.tsv")
