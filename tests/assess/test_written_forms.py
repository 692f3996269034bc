"""Written and spoken forms of numbers, symbols and abbreviations are the same answer.

Hand-built transcripts (as tiny.en writes them: digits, "%" as a word of its own, a
number cut in two by the word timing), the shared ``cases/assessment`` recordings heard
by the real tiny.en, and Piper's speech of sentences of each kind heard by tiny.en.
"""

from __future__ import annotations

import pytest

from tests.conftest import shared_data_dir
from ustad.assess.score import assess
from ustad.assess.types import Assessment, WordStatus
from ustad.speech.audio import decode_audio, encode_audio
from ustad.speech.model_paths import english_whisper_dir
from ustad.speech.piper_tts import PiperSynthesizer
from ustad.speech.types import Transcript, Word
from ustad.speech.whisper import WhisperTranscriber
from ustad.text.english import spoken_words

CASES = shared_data_dir().parent / "cases" / "assessment"


@pytest.fixture(scope="module")
def tiny_en() -> WhisperTranscriber:
    """The packaged English recogniser the service assesses with."""
    return WhisperTranscriber(english_whisper_dir("packaged"), name="tiny.en")


def heard(*words: str) -> Transcript:
    """A confident transcript of ``words`` at a steady pace."""
    built = tuple(Word(text, 0.3 + 0.4 * i, 0.65 + 0.4 * i, 0.95) for i, text in enumerate(words))
    return Transcript(" ".join(words), "en", 1.0, 0.6 + 0.4 * len(words), built)


def flagged(result: Assessment) -> list[tuple[str, str]]:
    return [(w.word, w.status.value) for w in result.words if w.status is not WordStatus.CORRECT]


@pytest.mark.parametrize(
    ("target", "words"),
    [
        ("50% of the class passed.", ["50%", "of", "the", "class", "passed."]),
        ("50% of the class passed.", ["50", "%", "of", "the", "class", "passed."]),
        ("Fifty percent of the class passed.", ["50", "%", "of", "the", "class", "passed."]),
        ("Fifty per cent of the class passed.", ["50%", "of", "the", "class", "passed."]),
        ("My room is No. 2.", ["My", "room", "is", "number", "two."]),
        ("My room is number two.", ["My", "room", "is", "No.", "2."]),
        ("He lives on Baker St.", ["He", "lives", "on", "Baker", "Street."]),
        ("He lives on Baker Street.", ["He", "lives", "on", "Baker", "St."]),
        ("The shop opens on Mon.", ["The", "shop", "opens", "on", "Monday."]),
        ("The shop opens on Monday.", ["The", "shop", "opens", "on", "Mon."]),
        ("Do you have WiFi?", ["Do", "you", "have", "Wi-Fi?"]),
        ("Do you have Wi-Fi?", ["Do", "you", "have", "WiFi?"]),
        ("Do you have wi fi?", ["Do", "you", "have", "Wi-Fi?"]),
        ("Send me an e-mail.", ["Send", "me", "an", "email."]),
        ("My number is 0300 1234567.", ["My", "number", "is", "03001234567."]),
        ("My number is 0300 1234567.", ["My", "number", "is", "0300-123-4567."]),
        (
            "My number is zero three zero zero one two three four five six seven.",
            ["My", "number", "is", "0300", "1234567."],
        ),
        ("My number is 0300 1234567.", ["My", "number", "is", "0-3-0-0-1-2-3-4-5-6-7."]),
        ("The class starts at 9:30 a.m.", ["The", "class", "starts", "at", "9", ".30", "a.m."]),
        ("There are 1,200 students.", ["There", "are", "1", ",200", "students."]),
        ("It costs $1.50.", ["It", "costs", "one", "dollar", "fifty", "cents."]),
        ("It costs Rs. 500.", ["It", "costs", "500", "rupees."]),
        ("It weighs 2.5 kg.", ["It", "weighs", "2.5", "kilograms."]),
        ("Dr. Khan is kind.", ["Doctor", "Khan", "is", "kind."]),
        ("World War II ended in 1945.", ["World", "War", "Two", "ended", "in", "1945."]),
        ("Henry VIII had six wives.", ["Henry", "the", "Eighth", "had", "six", "wives."]),
        ("We met on Jan. 5.", ["We", "met", "on", "January", "5th."]),
        ("I came 2nd.", ["I", "came", "second."]),
        ("My favourite colour is grey.", ["My", "favorite", "color", "is", "gray."]),
    ],
)
def test_either_form_passes_with_nothing_flagged(target: str, words: list[str]) -> None:
    result = assess(target, heard(*words))
    assert result.passed
    assert flagged(result) == []


def test_a_different_number_is_still_wrong() -> None:
    result = assess("50% of the class passed.", heard("15%", "of", "the", "class", "passed."))
    assert flagged(result) == [("50%", "mispronounced")]
    result = assess("My room is No. 2.", heard("My", "room", "is", "number", "three."))
    assert flagged(result) == [("2", "mispronounced")]


@pytest.mark.models
@pytest.mark.parametrize(
    ("clip", "targets"),
    [
        ("percent.wav", ["50% of the class passed.", "Fifty percent of the class passed."]),
        (
            "phone-number.wav",
            [
                "My number is 0300 1234567.",
                "My number is zero three zero zero one two three four five six seven.",
            ],
        ),
    ],
)
def test_shared_recordings_pass_in_both_written_forms(
    tiny_en: WhisperTranscriber, clip: str, targets: list[str]
) -> None:
    transcript = tiny_en.transcribe(
        decode_audio((CASES / clip).read_bytes()), language="en", word_timestamps=True
    )
    for target in targets:
        result = assess(target, transcript)
        assert result.passed, (target, transcript.text)
        assert flagged(result) == [], (target, transcript.text)


PAIRS: list[tuple[str, str]] = [
    ("50% of the class passed.", "Fifty percent of the class passed."),
    ("My room is No. 2 on the left.", "My room is number two on the left."),
    ("He lives on Baker St. in London.", "He lives on Baker Street in London."),
    ("The shop is closed on Mon. and Tue.", "The shop is closed on Monday and Tuesday."),
    ("Do you have WiFi at home?", "Do you have Wi-Fi at home?"),
    ("Please send me an e-mail today.", "Please send me an email today."),
    ("My number is 0300 1234567.",
     "My number is zero three zero zero one two three four five six seven."),
    ("Call me on 0321 7654321 tonight.",
     "Call me on zero three two one seven six five four three two one tonight."),
    ("The ticket costs $25.", "The ticket costs twenty-five dollars."),
    ("I paid Rs. 500 for the book.", "I paid five hundred rupees for the book."),
    ("The train leaves at 9:30 a.m.", "The train leaves at nine thirty a.m."),
    ("It is 25°C outside.", "It is twenty-five degrees Celsius outside."),
    ("She was born in 1998.", "She was born in nineteen ninety-eight."),
    ("Dr. Khan is very kind.", "Doctor Khan is very kind."),
    ("We met on Jan. 5.", "We met on January fifth."),
    ("I came 2nd in the race.", "I came second in the race."),
    ("The box weighs 3 kg.", "The box weighs three kilograms."),
    ("Add 1/2 a cup of sugar.", "Add one half a cup of sugar."),
    ("World War II ended in 1945.", "World War Two ended in nineteen forty-five."),
    ("My favourite colour is blue.", "My favorite color is blue."),
    ("The meeting is at 3 p.m. on Fri.", "The meeting is at three p.m. on Friday."),
    ("There are 1,200 students here.", "There are one thousand two hundred students here."),
]  # fmt: skip
"""Sentences of each kind, written with the form and spelled out (not the shared ones)."""


@pytest.mark.models
def test_piper_speech_of_written_forms_passes_against_both_forms(
    tiny_en: WhisperTranscriber,
) -> None:
    # Measured on these 22 pairs (packaged voice, tiny.en): every attempt passes against
    # both forms (22/22 the same verdict), and a word written as a number, symbol or
    # abbreviation was flagged in 0/22 (1/22 in an earlier run: the "am" of 9:30 a.m.
    # heard with confidence 0.31, flagged by the scorer on low confidence alone). Rates
    # with margin: int8 kernels differ by CPU.
    piper = PiperSynthesizer.packaged(threads=1)
    verdicts: list[tuple[str, bool, bool, bool]] = []
    for written, spelled in PAIRS:
        audio = decode_audio(encode_audio(piper.synthesize(written), "wav"))
        transcript = tiny_en.transcribe(audio, language="en", word_timestamps=True)
        as_written, as_spelled = assess(written, transcript), assess(spelled, transcript)
        forms = {w.core for w in spoken_words(written) if w.readings}
        form_flagged = any(word in forms for word, _ in flagged(as_written))
        verdicts.append((written, as_written.passed, as_spelled.passed, form_flagged))
    assert sum(w == s for _, w, s, _ in verdicts) >= 0.9 * len(PAIRS), verdicts
    assert sum(w for _, w, _, _ in verdicts) >= 0.9 * len(PAIRS), verdicts
    assert sum(f for *_, f in verdicts) <= 0.15 * len(PAIRS), verdicts
