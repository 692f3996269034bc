"""The pronouncing dictionary and its fallbacks."""

from __future__ import annotations

import pytest

from ustad.speech.phones.arpabet import PHONES
from ustad.speech.phones.pronouncing import Pronouncer, cmudict_path, read_cmudict


@pytest.fixture(scope="module")
def pronouncer() -> Pronouncer:
    return Pronouncer()


def test_the_dictionary_comes_from_the_installed_package() -> None:
    assert cmudict_path().name == "cmudict-en-us.dict"


def test_load_reads_the_dictionary_once() -> None:
    given = {"tea": (("T", "IY"),)}
    pronouncer = Pronouncer(given)
    pronouncer.load()
    pronouncer.load()
    assert pronouncer.phones("tea") == ("T", "IY")
    fresh = Pronouncer()
    fresh.load()
    assert fresh.in_dictionary("water")


def test_read_cmudict_keeps_variants_in_order_and_drops_stress() -> None:
    parsed = read_cmudict(["the DH AH0", "the(2) DH IY1", ";;; a comment", "bad XX YY"])
    assert parsed == {"the": (("DH", "AH"), ("DH", "IY"))}


@pytest.mark.parametrize(
    ("word", "phones"),
    [
        ("very", ("V", "EH", "R", "IY")),
        ("Station,", ("S", "T", "EY", "SH", "AH", "N")),
        ("think", ("TH", "IH", "NG", "K")),
        ("2", ("T", "UW")),
        ("Mandy's", ("M", "AE", "N", "D", "IY", "Z")),
    ],
)
def test_dictionary_words(pronouncer: Pronouncer, word: str, phones: tuple[str, ...]) -> None:
    assert pronouncer.phones(word) == phones


def test_variants_are_all_offered(pronouncer: Pronouncer) -> None:
    assert pronouncer.pronunciations("the")[:2] == (("DH", "AH"), ("DH", "IY"))


def test_unknown_names_get_phones_from_espeak(pronouncer: Pronouncer) -> None:
    for name in ("Zarnishqa", "Shahzaibullah", "Qurratulain"):
        assert not pronouncer.in_dictionary(name)
        phones = pronouncer.phones(name)
        assert len(phones) >= 5
        assert set(phones) <= set(PHONES)
    assert pronouncer.phones("Zarnishqa")[0] == "Z"


def test_words_with_nothing_to_say(pronouncer: Pronouncer) -> None:
    assert pronouncer.pronunciations("...") == ()
    assert pronouncer.pronunciations("") == ()


def test_written_forms_are_read_as_words(pronouncer: Pronouncer) -> None:
    fifty_percent = pronouncer.phones("50%")
    assert fifty_percent[:3] == ("F", "IH", "F")
    assert fifty_percent[-1] == "T"
