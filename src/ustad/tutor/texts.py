"""What the tutor says at each step, in English and in Urdu.

The English wording is what the existing client expects (protocol.md). Every
reply is a ``SpokenText``: the text shown, and the same text cut into segments
so that the Urdu parts are spoken by the Urdu voice and the English parts (the
target sentence quoted inside an Urdu prompt, "You said:" around an Urdu
sentence) by the English voice.
"""

from __future__ import annotations

import re

from ustad.speech.types import Language, Segment, SpokenText
from ustad.vocabulary import ErrorCode, LanguageMode

_TERMINAL = (".", "?", "!", "۔", "؟")


def compose(*parts: tuple[Language, str]) -> SpokenText:
    """Join ``(language, text)`` parts into one reply, each part its own segment."""
    segments = tuple(Segment(lang, text.strip()) for lang, text in parts if text.strip())
    shown = " ".join(segment.text for segment in segments)
    return SpokenText(text=shown, segments=segments)


def end_sentence(text: str, mark: str = ".") -> str:
    """``text`` ending with terminal punctuation (``mark`` added only if missing)."""
    stripped = text.strip()
    return stripped if stripped.endswith(_TERMINAL) else f"{stripped}{mark}"


_YOU_SAID_EN = "You said:"
_REPEAT_AFTER_ME_EN = "Now repeat after me."
_FULL_SENTENCE_EN = "Now repeat the full sentence:"
_YOU_SAID_UR = "آپ نے کہا:"
_IN_ENGLISH_UR = "انگریزی میں:"
_REPEAT_AFTER_ME_UR = "اب میرے بعد دہرائیں۔"
_FULL_SENTENCE_UR = "اب پورا جملہ دہرائیں:"


_ERRORS_EN: dict[ErrorCode, str] = {
    ErrorCode.INVALID_JSON: "Invalid JSON format.",
    ErrorCode.NO_AUDIO: "No audio_base64 found.",
    ErrorCode.BAD_BASE64: "Failed to decode audio.",
    ErrorCode.UNDECODABLE_AUDIO: "No valid audio found in user response.",
    ErrorCode.NO_VALID_AUDIO: "No valid audio found in user response.",
    ErrorCode.AUDIO_TOO_LONG: "The recording is too long. Please say one sentence at a time.",
    ErrorCode.MESSAGE_TOO_LARGE: "The message is too large.",
    ErrorCode.UNKNOWN_MESSAGE: "Unknown message type.",
    ErrorCode.BUSY: "The tutor is busy right now. Please try again in a moment.",
    ErrorCode.INTERNAL: "Something went wrong on our side. Please try again.",
}

_ERRORS_UR: dict[ErrorCode, str] = {
    ErrorCode.INVALID_JSON: "پیغام کا JSON درست نہیں۔",
    ErrorCode.NO_AUDIO: "پیغام میں audio_base64 نہیں ملا۔",
    ErrorCode.BAD_BASE64: "آواز کو پڑھا نہیں جا سکا۔",
    ErrorCode.UNDECODABLE_AUDIO: "پیغام میں درست آواز نہیں ملی۔",
    ErrorCode.NO_VALID_AUDIO: "پیغام میں درست آواز نہیں ملی۔",
    ErrorCode.AUDIO_TOO_LONG: "ریکارڈنگ بہت لمبی ہے۔ براہِ کرم ایک وقت میں ایک جملہ بولیں۔",
    ErrorCode.MESSAGE_TOO_LARGE: "پیغام بہت بڑا ہے۔",
    ErrorCode.UNKNOWN_MESSAGE: "یہ پیغام سمجھ نہیں آیا۔",
    ErrorCode.BUSY: "استاد اس وقت مصروف ہے۔ براہِ کرم تھوڑی دیر بعد دوبارہ کوشش کریں۔",
    ErrorCode.INTERNAL: "ہماری طرف کچھ خرابی ہو گئی۔ براہِ کرم دوبارہ کوشش کریں۔",
}


def error_text(code: ErrorCode, mode: LanguageMode) -> str:
    """The ``response`` of an ``error`` reply."""
    return (_ERRORS_UR if mode == "urdu" else _ERRORS_EN)[code]


def no_speech(mode: LanguageMode) -> SpokenText:
    """Reply to an utterance with no speech in it (JSON only)."""
    if mode == "urdu":
        return compose(("ur", "کوئی آواز سنائی نہیں دی۔"))
    return compose(("en", "No speech detected."))


def say_it_again(mode: LanguageMode) -> SpokenText:
    """Urdu was heard but no English sentence could be had that the tutor would stand
    behind (an ``error`` reply, code ``no_valid_audio``): ask again, more simply."""
    if mode == "urdu":
        return compose(
            (
                "ur",
                "میں نے آپ کی بات سنی، لیکن اس کا ایسا انگریزی جملہ نہیں بنا سکا جس پر مجھے"
                " یقین ہو۔ براہِ کرم دوبارہ کہیں، ذرا آسان اور چھوٹے جملے میں۔",
            )
        )
    return compose(
        (
            "en",
            "I heard you, but I could not turn that into an English sentence I am sure of."
            " Please say it again, more simply or in a shorter sentence.",
        )
    )


def english_instead_of_urdu(mode: LanguageMode) -> SpokenText:
    """The learner spoke English at the Urdu step."""
    if mode == "urdu":
        return compose(
            (
                "ur",
                "بہت خوب، آپ نے انگریزی بولی! لیکن آگے بڑھنے کے لیے براہِ کرم جملہ اردو میں بولیں۔",
            )
        )
    return compose(
        ("en", "Great job speaking English! However, please say the Urdu sentence to proceed.")
    )


def you_said(mode: LanguageMode, urdu: str, english: str) -> SpokenText:
    """The Urdu sentence was understood (``you_said_audio``)."""
    if mode == "urdu":
        return compose(
            ("ur", _YOU_SAID_UR),
            ("ur", end_sentence(urdu, "۔")),
            ("ur", _IN_ENGLISH_UR),
            ("en", end_sentence(english)),
            ("ur", _REPEAT_AFTER_ME_UR),
        )
    sentence = urdu.strip().rstrip("۔.").strip()
    # Shown exactly as the existing client expects; spoken as three voice segments.
    return SpokenText(
        text=f"{_YOU_SAID_EN} {sentence}. {_REPEAT_AFTER_ME_EN}",
        segments=(
            Segment("en", _YOU_SAID_EN),
            Segment("ur", sentence),
            Segment("en", _REPEAT_AFTER_ME_EN),
        ),
    )


def repeat_prompt(mode: LanguageMode, english: str) -> SpokenText:
    """After ``you_said_complete`` (JSON only)."""
    if mode == "urdu":
        return compose(("ur", f"انگریزی جملہ ہے: “{english}”۔ کیا آپ میرے بعد دہرا سکتے ہیں؟"))
    return compose(("en", f'The English sentence is "{english}". Can you repeat after me?'))


def full_sentence(mode: LanguageMode, english: str) -> SpokenText:
    """After ``word_by_word_complete``: the sentence to repeat, spoken in English."""
    if mode == "urdu":
        return compose(("ur", _FULL_SENTENCE_UR), ("en", end_sentence(english)))
    return compose(("en", _FULL_SENTENCE_EN), ("en", end_sentence(english)))


def word_by_word(mode: LanguageMode, english: str) -> SpokenText:
    """After ``feedback_complete`` (JSON only)."""
    if mode == "urdu":
        return compose(("ur", f"آئیے لفظ بہ لفظ مشق کریں: {english}"))
    return compose(("en", f"Let's practice word-by-word: {english}"))


def skipped(mode: LanguageMode) -> SpokenText:
    """The learner moved on with ``next_sentence``."""
    if mode == "urdu":
        return compose(("ur", "ٹھیک ہے، نیا جملہ آزماتے ہیں۔ اردو میں کچھ کہیے۔"))
    return compose(("en", "Okay, let's try a new sentence. Say something in Urdu."))


def fixed_replies() -> list[SpokenText]:
    """Replies whose audio never changes: synthesised once at start-up."""
    modes: tuple[LanguageMode, ...] = ("urdu", "english")
    return [reply(mode) for mode in modes for reply in (english_instead_of_urdu, skipped)]


def fixed_segments() -> list[Segment]:
    """Fixed parts of replies that wrap a sentence (their PCM is cached at start-up)."""
    fixed: tuple[tuple[Language, str], ...] = (
        ("en", _YOU_SAID_EN),
        ("en", _REPEAT_AFTER_ME_EN),
        ("en", _FULL_SENTENCE_EN),
        ("ur", _YOU_SAID_UR),
        ("ur", _IN_ENGLISH_UR),
        ("ur", _REPEAT_AFTER_ME_UR),
        ("ur", _FULL_SENTENCE_UR),
    )
    return [Segment(language, text) for language, text in fixed]


_ARABIC_RUN = re.compile(
    r"[\u0600-\u06FF\u0750-\u077F\uFB50-\uFDFF\uFE70-\uFEFF]"
    r"(?:[\u0600-\u06FF\u0750-\u077F\uFB50-\uFDFF\uFE70-\uFEFF\s\d\W]*"
    r"[\u0600-\u06FF\u0750-\u077F\uFB50-\uFDFF\uFE70-\uFEFF])?"
)


def by_script(text: str) -> SpokenText:
    """Free text split into Urdu-script and other runs, each spoken in its own voice."""
    parts: list[tuple[Language, str]] = []
    position = 0
    for match in _ARABIC_RUN.finditer(text):
        if match.start() > position:
            parts.append(("en", text[position : match.start()]))
        parts.append(("ur", match.group()))
        position = match.end()
    if position < len(text):
        parts.append(("en", text[position:]))
    segments = tuple(
        Segment(language, chunk.strip())
        for language, chunk in parts
        if any(ch.isalnum() for ch in chunk)
    )
    return SpokenText(text=text.strip(), segments=segments)
