"""The translation memory: phrase-bank sentences found in noisy transcripts, and only those."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from tests.conftest import UrduClip
from ustad.speech.phrasebank import Phrase, PhraseBank
from ustad.speech.translation_memory import DEFAULT_THRESHOLD, MemoryMatch, TranslationMemory
from ustad.speech.types import ScriptNormalizer, Translation, TranslationRequest, Translator

# What Whisper base heard for the two Common Voice Urdu clips (see shared/data/urdu).
CV_SENTENCE_1 = "مزدور طبقے کے علاوہ سرکاری اور کاروباری لوگ نو دس بجے کام شروع کرتے"
CV_SENTENCE_2 = "جہاں دنیا کا سب سے اونچا"
WHISPER_1_START = "ملدور تپے کے علاوہ"
WHISPER_1 = WHISPER_1_START + " سرکاری اور کاروباری لوگ نو دس بجے کام شروع کرتے"
WHISPER_2 = "جہا دنیا کا سب سے انچہ"


@pytest.fixture(scope="module")
def bank() -> PhraseBank:
    return PhraseBank.load()


@pytest.fixture(scope="module")
def memory(bank: PhraseBank) -> TranslationMemory:
    return TranslationMemory(bank)


def words(urdu: str) -> list[str]:
    return urdu.rstrip("۔؟").replace("،", "").split()


def longest(ws: list[str]) -> int:
    return max(range(len(ws)), key=lambda i: (len(ws[i]), -i))


def drop_letter(urdu: str) -> str:
    ws = words(urdu)
    k = longest(ws)
    middle = len(ws[k]) // 2
    ws[k] = ws[k][:middle] + ws[k][middle + 1 :]
    return " ".join(ws)


def replace_letter(urdu: str) -> str:
    # ژ occurs nowhere in the bank, so the result cannot spell another entry's word.
    ws = words(urdu)
    k = longest(ws)
    middle = len(ws[k]) // 2
    ws[k] = ws[k][:middle] + "ژ" + ws[k][middle + 1 :]
    return " ".join(ws)


def join_words(urdu: str) -> str:
    ws = words(urdu)
    k = max(longest(ws), 1)
    ws[k - 1 : k + 1] = [ws[k - 1] + ws[k]]
    return " ".join(ws)


def split_word(urdu: str) -> str:
    ws = words(urdu)
    k = longest(ws)
    middle = len(ws[k]) // 2
    ws[k : k + 1] = [ws[k][:middle], ws[k][middle:]]
    return " ".join(ws)


def arabic_letters(urdu: str) -> str:
    for urdu_letter, arabic in (("ی", "ي"), ("ک", "ك"), ("ہ", "ه"), ("۔", "."), ("؟", "?")):
        urdu = urdu.replace(urdu_letter, arabic)
    return urdu


def with_harakat(urdu: str) -> str:
    # zabar, zer and pesh sprinkled after letters, plus a tatweel and a zero-width space
    marks = "\u064e\u0650\u064f"
    out = [ch + marks[i % 3] if i % 2 == 0 and ch.isalpha() else ch for i, ch in enumerate(urdu)]
    return "\u200b" + "".join(out).replace(" ", " \u0640", 1)


def test_implements_the_protocols(memory: TranslationMemory) -> None:
    translator: Translator = memory
    normalizer: ScriptNormalizer = memory
    assert translator.name == "memory"
    assert normalizer is memory
    assert len(memory) == len(PhraseBank.load())


def test_every_entry_matches_itself(bank: PhraseBank, memory: TranslationMemory) -> None:
    for phrase in bank:
        hit = memory.match(phrase.urdu)
        assert hit == MemoryMatch(phrase, 100.0, "urdu")
        ranked = memory.rank(phrase.urdu, limit=1)
        assert ranked[0].phrase == phrase
        assert ranked[0].score == pytest.approx(100.0)


def test_entries_are_far_enough_apart(bank: PhraseBank, memory: TranslationMemory) -> None:
    """No entry's Urdu matches another entry: short sentences differing in the key word
    (مجھے پانی/چائے/کافی/دودھ چاہیے, دائیں/بائیں مڑیں, گرمی/سردی) must not be confused."""
    too_close = [
        (phrase.urdu, other.phrase.urdu, round(other.score, 1))
        for phrase in bank
        for other in memory.rank(phrase.urdu, limit=10)
        if other.phrase != phrase and other.score >= DEFAULT_THRESHOLD - 5
    ]
    assert too_close == []  # with a 5-point safety margin


def test_entries_are_far_enough_apart_as_roman_urdu(
    bank: PhraseBank, memory: TranslationMemory
) -> None:
    too_close = [
        (phrase.roman_urdu, other.phrase.roman_urdu, round(other.score, 1))
        for phrase in bank
        for other in memory.rank(phrase.roman_urdu, limit=10)
        if other.phrase != phrase and other.score >= DEFAULT_THRESHOLD
    ]
    assert too_close == []


@pytest.mark.parametrize(
    "corrupt",
    [drop_letter, join_words, split_word, arabic_letters, with_harakat],
    ids=lambda f: f.__name__,
)
def test_corrupted_entries_still_match(
    bank: PhraseBank, memory: TranslationMemory, corrupt: Callable[[str], str]
) -> None:
    missed = []
    for phrase in bank:
        heard = corrupt(phrase.urdu)
        hit = memory.match(heard)
        if hit is None or hit.phrase != phrase:
            missed.append((phrase.urdu, heard, hit))
    assert missed == []


def test_a_letter_replaced_in_a_long_word_still_matches(
    bank: PhraseBank, memory: TranslationMemory
) -> None:
    # In a word of two or three letters one wrong consonant makes another word
    # (کیا -> کثا sounds like "کس کا"), so only words of five letters or more.
    checked = missed = 0
    for phrase in bank:
        ws = words(phrase.urdu)
        if len(ws[longest(ws)]) < 5:
            continue
        checked += 1
        hit = memory.match(replace_letter(phrase.urdu))
        missed += hit is None or hit.phrase != phrase
    assert checked > 150
    assert missed == 0


def test_two_errors_in_one_sentence_still_match(
    bank: PhraseBank, memory: TranslationMemory
) -> None:
    for phrase in bank:
        hit = memory.match(arabic_letters(join_words(drop_letter(phrase.urdu))))
        assert hit is not None, phrase
        assert hit.phrase == phrase


def test_whisper_errors_are_tolerated() -> None:
    """Real Whisper output for two Common Voice sentences, had they been in the bank."""
    base = list(PhraseBank.load())
    extra = [
        Phrase("cv-001", "cv", CV_SENTENCE_1, "Mazdoor tabqe ke ilawa", "Besides workers."),
        Phrase("cv-002", "cv", CV_SENTENCE_2, "Jahan duniya ka sab se ooncha", "Where highest."),
        Phrase("cv-003", "cv", "مزدور طبقے کے علاوہ", "Mazdoor tabqe ke ilawa", "Apart."),
    ]
    memory = TranslationMemory(PhraseBank(base + extra))
    for heard, entry_id in (
        (WHISPER_1, "cv-001"),
        (WHISPER_2, "cv-002"),
        (WHISPER_1_START, "cv-003"),
    ):
        hit = memory.match(heard)
        assert hit is not None, heard
        assert hit.phrase.id == entry_id


def test_sentences_not_in_the_bank_do_not_match(
    memory: TranslationMemory, urdu_clips: list[UrduClip]
) -> None:
    assert {clip.text for clip in urdu_clips} == {CV_SENTENCE_1, CV_SENTENCE_2}
    for clip in urdu_clips:
        assert memory.match(clip.text) is None
    for heard in (WHISPER_1, WHISPER_1_START, WHISPER_2):
        assert memory.match(heard) is None


@pytest.mark.parametrize(
    "heard",
    [
        # the key noun swapped for one the bank does not have
        "مجھے جوس چاہیے",
        "مجھے پیسے چاہیے",
        "مجھے کتاب چاہیے",
        "آج بہت بارش ہے",
        "میں ڈاکٹر ہوں",
        "میرا نام احمد ہے",
        "مجھے گانا پسند ہے",
        # a negation added or a word more
        "مجھے بخار نہیں ہے",
        "میں ٹھیک نہیں ہوں",
        "مجھے پانی نہیں چاہیے",
        "آج پیر نہیں ہے",
        "میں بہت اداس ہوں",
        # a different verb
        "کھڑکی بند کر دیں",
        "بتی بند کر دیں",
        # unrelated
        "یہ کتاب بہت دلچسپ ہے",
        "میں کل بازار جاؤں گا",
    ],
)
def test_a_different_sentence_does_not_match(memory: TranslationMemory, heard: str) -> None:
    assert memory.match(heard) is None, memory.rank(heard, limit=1)


def test_english_is_not_mistaken_for_roman_urdu(
    bank: PhraseBank, memory: TranslationMemory
) -> None:
    assert [p.english for p in bank if memory.match(p.english) is not None] == []


def test_roman_urdu_matches(bank: PhraseBank, memory: TranslationMemory) -> None:
    for phrase in bank:
        hit = memory.match(phrase.roman_urdu.lower().rstrip("?"))
        assert hit is not None
        assert (hit.phrase, hit.matched_on) == (phrase, "roman")


@pytest.mark.parametrize(
    ("typed", "entry_id"),
    [
        ("Mjhe paani chahye", "food-003"),
        ("muje pani chaiye", "food-003"),
        ("mera nam ali he", "greet-009"),
        ("mein thik hun shukria", "greet-004"),
        ("mujhe bhuk lagi he", "food-001"),
        ("ye kya he?", "question-001"),
    ],
)
def test_roman_urdu_spelling_variants_match(
    memory: TranslationMemory, typed: str, entry_id: str
) -> None:
    hit = memory.match(typed)
    assert hit is not None
    assert hit.phrase.id == entry_id


@pytest.mark.parametrize(
    ("hindi", "entry_id"),
    [
        ("मुझे पानी चाहिए", "food-003"),
        ("मुझे चाय चाहिए", "food-004"),
        ("आप कैसे हैं?", "greet-003"),
        ("मैं ठीक हूँ, शुक्रिया", "greet-004"),
        ("क्या आप अंग्रेज़ी बोलते हैं?", "question-010"),
        ("मैं घर जा रहा हूँ", "home-001"),
    ],
)
def test_devanagari_transcripts_match(memory: TranslationMemory, hindi: str, entry_id: str) -> None:
    """Whisper often takes spoken Urdu for Hindi and writes it in Devanagari."""
    hit = memory.match(hindi)
    assert hit is not None
    assert (hit.phrase.id, hit.matched_on) == (entry_id, "devanagari")


async def test_translate_hit(memory: TranslationMemory) -> None:
    result = await memory.translate(TranslationRequest(text="مجھے پانی چاهيے"))
    assert result is not None
    assert result == Translation(
        text="I want water.",
        provider="memory",
        score=result.score,
        source_text="مجھے پانی چاہیے۔",
        entry_id="food-003",
        confidence=round(result.score / 100.0, 4),
    )
    assert DEFAULT_THRESHOLD <= result.score <= 100.0
    assert result.confidence is not None and 0.0 < result.confidence <= 1.0


async def test_translate_miss_and_other_languages(memory: TranslationMemory) -> None:
    assert await memory.translate(TranslationRequest(text=CV_SENTENCE_2)) is None
    assert await memory.translate(TranslationRequest(text="مجھے پانی چاہیے", source="en")) is None
    assert await memory.translate(TranslationRequest(text="")) is None


async def test_to_urdu_script(memory: TranslationMemory) -> None:
    assert await memory.to_urdu_script("مجھے پانی چاهيے") == "مجھے پانی چاہیے۔"
    assert await memory.to_urdu_script("ap kese hain") == "آپ کیسے ہیں؟"
    assert await memory.to_urdu_script("जहां दुनिया का सबसे ऊंचा") == "जहां दुनिया का सबसे ऊंचा"
    # Not in the bank: the transcript itself, cleaned up for display.
    assert await memory.to_urdu_script("جہاں دنيا کا سب سے اونچا") == CV_SENTENCE_2 + "۔"
    assert await memory.to_urdu_script("کيا آپ کل آئيں گے") == "کیا آپ کل آئیں گے؟"


def test_lookup_english(memory: TranslationMemory) -> None:
    hungry = memory.lookup_english("I am hungry.")
    assert hungry is not None
    assert hungry.id == "food-001"
    assert memory.lookup_english("  i AM hungry!! ") == hungry
    eat_out = memory.lookup_english("lets eat out today")
    assert eat_out is not None
    assert eat_out.id == "food-018"
    assert memory.lookup_english("Let’s eat out today.") == eat_out
    assert memory.lookup_english("I am very hungry.") is None


def test_threshold_is_checked_and_applied(bank: PhraseBank) -> None:
    with pytest.raises(ValueError, match="threshold"):
        TranslationMemory(bank, threshold=101)
    heard = drop_letter("میرے شوہر دفتر میں کام کرتے ہیں۔")
    score = TranslationMemory(bank).rank(heard, limit=1)[0].score
    assert 0 < score < 100
    assert TranslationMemory(bank, threshold=score).match(heard) is not None
    assert TranslationMemory(bank, threshold=min(100.0, score + 0.1)).match(heard) is None


def test_lookup_is_fast_enough_for_the_event_loop(
    bank: PhraseBank, memory: TranslationMemory
) -> None:
    heard = [drop_letter(p.urdu) for p in bank] + [CV_SENTENCE_1, WHISPER_1, WHISPER_2] * 20
    # CPU time of this process, not wall time: other processes on a loaded machine do not
    # count against the lookup, and a faster machine only makes it smaller.
    start = time.process_time()
    for text in heard:
        memory.match(text)
    per_lookup = (time.process_time() - start) / len(heard)
    # Measured about 0.2-0.6 ms on a shared 2-core machine; 5 ms leaves room for noise.
    assert per_lookup < 0.005
