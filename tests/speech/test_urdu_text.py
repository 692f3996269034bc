"""Urdu text normalisation, comparison keys, display form and script detection."""

from __future__ import annotations

import re

import pytest

from ustad.speech.phrasebank import PhraseBank
from ustad.speech.urdu_text import (
    is_urdu_script,
    looks_like_question,
    matching_key,
    normalize_urdu,
    script_of,
    to_display,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # Arabic letter forms -> Urdu letters
        ("كيا آپ ٹھيك ہيں", "کیا آپ ٹھیک ہیں"),
        ("ٹھیک هے", "ٹھیک ہے"),  # Arabic heh, word-final
        ("یه", "یہ"),
        ("هم", "ہم"),  # Arabic heh, word-initial
        ("عليكم", "علیکم"),  # as Whisper wrote it
        ("موسى", "موسی"),  # alef maksura
        ("ﻣﺠﮭﮯ ﭘﺎﻧﯽ", "مجھے پانی"),  # presentation forms
        # do-chashmi he where no aspiration is possible is a misspelt ہ
        ("ھم گھر جا رھے ھیں", "ہم گھر جا رہے ہیں"),
        ("بھائی ٹھیک ہے", "بھائی ٹھیک ہے"),  # real aspirates are kept
        ("پڑھ", "پڑھ"),
        # harakat, tatweel, invisible characters
        ("مُجھے پانِی چاہیَے", "مجھے پانی چاہیے"),
        ("زکوٰۃ", "زکوۃ"),
        ("مـــجھے", "مجھے"),
        ("\ufeffمجھے\u200b پانی\u200f", "مجھے پانی"),
        ("ہم\u200cآہنگ", "ہم آہنگ"),  # ZWNJ keeps the words apart
        # hamza spelt in two code points
        ("ی\u0654", "ئ"),
        ("خانه\u0654 خدا", "خانۂ خدا"),  # izafat hamza on an Arabic heh
        ("خانۀ خدا", "خانۂ خدا"),
        ("چاۓ", "چائے"),
        ("ا\u0653پ", "آپ"),
        # punctuation and spaces
        ("آپ کیسے ہیں?", "آپ کیسے ہیں؟"),
        ("ہاں , ٹھیک ہے .", "ہاں، ٹھیک ہے۔"),
        ("کیا؟؟", "کیا؟"),
        ("سلام ۔۔۔", "سلام۔"),
        ("  بہت   اچھا  ", "بہت اچھا"),
        ("قیمت 2.5 روپے ہے", "قیمت 2.5 روپے ہے"),  # a decimal point is not a full stop
        ("١٢٣ روپے", "۱۲۳ روپے"),
    ],
)
def test_normalize_urdu(raw: str, expected: str) -> None:
    assert normalize_urdu(raw) == expected


@pytest.mark.parametrize("text", ["How are you?", "Mujhe pani chahiye, please.", "मुझे पानी चाहिए।"])
def test_normalize_leaves_other_scripts_alone(text: str) -> None:
    # Latin punctuation stays Latin; Devanagari keeps its vowel signs (combining marks).
    assert normalize_urdu(text) == text


def test_normalize_is_idempotent_and_keeps_the_bank_intact() -> None:
    bank = PhraseBank.load()
    for phrase in bank:
        assert normalize_urdu(phrase.urdu) == phrase.urdu
    messy = ["كيا آپ ٹھيك ہيں?", "ھم گھر جا رھے ھیں", "مُجھے\u200b پانی", "ہاں , ٹھیک ہے ."]
    for text in messy:
        once = normalize_urdu(text)
        assert normalize_urdu(once) == once


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("آپ", "اپ"),
        ("چائے", "چاۓ"),
        ("چائے", "چاے"),
        ("ہیں", "ہین"),
        ("مجھے", "مجہی"),
        ("کیا آپ ٹھیک ہیں؟", "كيا آپ ٹھيك ہيں"),
        ("مُجھے پانی چاہیے۔", "مجھے  پانی چاہیے"),
        ("۱۲۳ روپے", "123 روپے"),
    ],
)
def test_matching_key_folds_what_recognisers_confuse(a: str, b: str) -> None:
    assert matching_key(a) == matching_key(b)


def test_matching_key_keeps_words_apart_and_drops_punctuation() -> None:
    assert matching_key("ہاں، ٹھیک ہے۔") == "ہان ٹہیک ہی"
    assert matching_key("Hello, World!") == "hello world"
    assert matching_key("مجھے پانی چاہیے") != matching_key("مجھے چائے چاہیے")
    assert not re.search(r"[؟۔،!?.,]", matching_key("کیا؟ ہاں۔ نہیں، ٹھیک!"))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("مجھے پانی چاہیے", "مجھے پانی چاہیے۔"),
        ("کیا آپ ٹھیک ہیں", "کیا آپ ٹھیک ہیں؟"),  # initial کیا asks
        ("آپ کا نام کیا ہے", "آپ کا نام کیا ہے؟"),
        ("آپ کہاں جا رہے ہیں", "آپ کہاں جا رہے ہیں؟"),  # wh-word
        ("میں نے کام کیا", "میں نے کام کیا۔"),  # کیا = did
        ("آپ کیسے ہیں?", "آپ کیسے ہیں؟"),
        ("مجھے نہیں پتا وہ کہاں ہے۔", "مجھے نہیں پتا وہ کہاں ہے۔"),  # explicit mark wins
        ("كيا آپ ٹھيك ہيں", "کیا آپ ٹھیک ہیں؟"),
        ("ہاں،", "ہاں۔"),
        ("Aap kaise hain", "Aap kaise hain"),  # no Urdu end mark on Roman Urdu
        ("۔", ""),
        ("", ""),
    ],
)
def test_to_display(raw: str, expected: str) -> None:
    assert to_display(raw) == expected


def test_question_heuristic_recovers_the_bank_punctuation() -> None:
    for phrase in PhraseBank.load():
        bare = phrase.urdu.rstrip("۔؟")
        assert looks_like_question(bare) == phrase.urdu.endswith("؟"), phrase
        assert to_display(bare) == phrase.urdu


@pytest.mark.parametrize(
    ("text", "script"),
    [
        ("مجھے پانی چاہیے", "arabic"),
        ("مجھے ۱۲۳ روپے چاہیے۔", "arabic"),
        ("ﻣﺠﮭﮯ", "arabic"),
        ("Mujhe pani chahiye", "latin"),
        ("Café crème", "latin"),
        ("मुझे पानी चाहिए", "devanagari"),
        ("मुझे phone चाहिए", "mixed"),
        ("مجھے phone چاہیے", "mixed"),
        ("Привет", "mixed"),  # none of the three scripts
        ("123 ۔؟ !", "none"),
        ("", "none"),
    ],
)
def test_script_of(text: str, script: str) -> None:
    assert script_of(text) == script


def test_is_urdu_script() -> None:
    assert is_urdu_script("مجھے پانی چاہیے")
    assert is_urdu_script("مجھے phone چاہیے")  # a loanword in Latin letters
    assert not is_urdu_script("Mujhe pani chahiye")
    assert not is_urdu_script("मुझे पानी चाहिए")
    assert not is_urdu_script("I want some پانی please")
    assert not is_urdu_script("")
