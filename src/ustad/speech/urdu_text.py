"""Pure functions for Urdu text: clean it for display and key it for fuzzy comparison.

Whisper, keyboards and web text write the same Urdu in several code-point spellings
(Arabic ``ي ك ه`` for Urdu ``ی ک ہ``, decomposed hamza, harakat, tatweel, invisible
joiners, Latin punctuation). ``normalize_urdu`` gives one canonical spelling that is
still proper Urdu; ``matching_key`` goes further and throws away distinctions that
recognisers get wrong, for comparison only (never for display).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final, Literal

Script = Literal["arabic", "latin", "devanagari", "mixed", "none"]

URDU_FULL_STOP: Final = "۔"
URDU_QUESTION_MARK: Final = "؟"

# Letters after which do-chashmi he (ھ) marks aspiration: bh, ph, th, ... and the rarer
# lh, mh, nh (دولھا, تمھارا, ننھا). Word-initially, or after any other letter, ھ is the
# web habit of writing ہ as ھ ("ھے", "ھم"), because many fonts draw initial/medial ہ
# like ھ. (ر is not here: "رھے" is a misspelling of "رہے"; ڑھ as in "پڑھ" is real.)
_ASPIRABLE: Final = frozenset("بپتٹجچدڈڑکگلمن")

# One code point per Urdu letter. Arabic heh (ه) becomes heh goal (ہ) in every position:
# an Arabic keyboard uses ه both for Urdu ہ (word-initial, medial and the word-final
# vowel of "کمرہ", "یہ") and, after a stop, for the aspiration ھ. Those two cannot be told
# apart from spelling alone ("بہت" is b-h-t, "بھائی" is bh-ai), so the common case wins;
# matching_key folds ہ/ھ anyway, so fuzzy matching does not depend on the guess.
# Final-form ae (ە, U+06D5) is a Kurdish letter that some converters emit for final ہ.
_LETTER_MAP: Final = str.maketrans(
    {
        "ي": "ی",  # Arabic yeh
        "ى": "ی",  # alef maksura, used for final ی by some Arabic-locale systems
        "ې": "ی",
        "ك": "ک",  # Arabic kaf
        "ڪ": "ک",  # swash kaf (Sindhi), seen in converted text
        "ه": "ہ",
        "ە": "ہ",
        "ۀ": "ۂ",  # Persian heh with hamza (izafat) -> the Urdu heh goal with hamza
        "ة": "ۃ",  # teh marbuta -> Urdu teh marbuta goal
        "أ": "ا",  # Urdu writes no hamza on alef
        "إ": "ا",
        "ٱ": "ا",
        "٠": "۰",  # Arabic-Indic digits -> the Urdu (extended) digits
        "١": "۱",
        "٢": "۲",
        "٣": "۳",
        "٤": "۴",
        "٥": "۵",
        "٦": "۶",
        "٧": "۷",
        "٨": "۸",
        "٩": "۹",
    }
)

# Invisible characters that change nothing a reader sees but break string equality.
_INVISIBLE_RE: Final = re.compile(
    "[\u00ad\u061c\u200b\u200d\u200e\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]"
)
# ZWNJ separates morphemes written without a space ("ہم‌آہنگ"); removing it would make
# the letters join, so it becomes the space that standard spelling uses there.
_ZWNJ: Final = "\u200c"
_TATWEEL: Final = "\u0640"
_PRESENTATION_FORM_RE: Final = re.compile("[\ufb50-\ufdff\ufe70-\ufefe]")
# Harakat, Quranic annotation and the other combining marks of the Arabic blocks. Only
# these: Devanagari vowel signs are combining marks too, and they carry the vowels.
_ARABIC_MARKS_RE: Final = re.compile(
    "[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06dc\u06df-\u06e4\u06e7\u06e8"
    "\u06ea-\u06ed\u08d3-\u08e1\u08e3-\u08ff]"
)
_HAMZA_ABOVE: Final = "\u0654"

# Latin and Arabic-locale punctuation -> the Urdu marks.
_PUNCT_MAP: Final = str.maketrans(
    {
        "?": URDU_QUESTION_MARK,
        ",": "،",
        ";": "؛",
        "٫": "،",  # Arabic decimal separator, typed as a comma
        "“": '"',
        "”": '"',
        "«": '"',
        "»": '"',
        "‘": "'",
        "’": "'",
    }
)
_LATIN_STOP_RE: Final = re.compile(r"(?<![0-9۰-۹])\.(?![0-9۰-۹])")
_SPACE_BEFORE_MARK_RE: Final = re.compile(r"\s+([،؛؟۔!:])")
_REPEATED_MARK_RE: Final = re.compile(r"([،؛؟۔!])\1+")
_SPACES_RE: Final = re.compile(r"\s+")

_DIGITS_TO_ASCII: Final = str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789")

# matching_key folds what recognisers confuse: hamza seats, ے/ی, ھ/ہ, ں/ن, آ/ا.
_KEY_MAP: Final = str.maketrans(
    {
        "آ": "ا",
        "ؤ": "و",
        "ئ": None,  # the hamza seat: چائے / چاۓ / چاے are one word
        "ۓ": "ی",
        "ء": None,
        "ۂ": "ہ",
        "ۃ": "ت",
        "ے": "ی",
        "ھ": "ہ",
        "ں": "ن",
    }
)
# Word characters plus the Devanagari vowel signs and virama, which are not ``\w``.
_NON_WORD_RE: Final = re.compile("[^\\w\u0900-\u0963\u0966-\u097f]+")
_WORD_RE: Final = re.compile("[\\w\u0900-\u0963\u0966-\u097f]+")

# Letters by script; a "letter" is a word character that is not a digit or underscore.
_ARABIC_RANGES: Final = "\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff"
_LATIN_RANGES: Final = "A-Za-z\u00c0-\u024f\u1e00-\u1eff"
_DEVANAGARI_RANGES: Final = "\u0900-\u097f"
_ARABIC_LETTER_RE: Final = re.compile(f"(?![\\d_])[{_ARABIC_RANGES}](?<=\\w)")
_LATIN_LETTER_RE: Final = re.compile(f"[{_LATIN_RANGES}](?<=\\w)")
_DEVANAGARI_LETTER_RE: Final = re.compile(f"(?![\\d_])[{_DEVANAGARI_RANGES}](?<=\\w)")
_OTHER_LETTER_RE: Final = re.compile(
    f"(?![{_ARABIC_RANGES}{_LATIN_RANGES}{_DEVANAGARI_RANGES}])[^\\W\\d_]"
)
_ANY_LETTER_RE: Final = re.compile(r"[^\W\d_]")

_QUESTION_WORDS: Final = frozenset(
    [
        "کون",
        "کونسا",
        "کونسی",
        "کہاں",
        "کدھر",
        "کب",
        "کیوں",
        "کیسے",
        "کیسا",
        "کیسی",
        "کتنا",
        "کتنے",
        "کتنی",
        "کس",
        "کسے",
        "کنہیں",
    ]
)


def _strip_marks(text: str) -> str:
    """Drop harakat and other Arabic-script marks, keeping hamza where it makes a letter."""
    # A hamza above that NFC could not compose onto ی/ى is the letter ئ written in two
    # code points; keep it as that letter rather than losing it with the harakat.
    text = text.replace("ی" + _HAMZA_ABOVE, "ئ").replace("ى" + _HAMZA_ABOVE, "ئ")
    return _ARABIC_MARKS_RE.sub("", text)


def normalize_urdu(text: str) -> str:
    """Canonical Urdu spelling: NFC, Urdu letter forms, no harakat/tatweel/joiners.

    Punctuation is unified to the Urdu marks (``؟ ، ؛ ۔``) and whitespace collapsed.
    The result is still proper Urdu for display; see ``matching_key`` for comparison.
    """
    # Presentation forms (ﻣﺠﮭﮯ) are legacy glyph codes for the ordinary letters.
    text = _PRESENTATION_FORM_RE.sub(lambda m: unicodedata.normalize("NFKC", m[0]), text)
    # Letters first, then NFC: Urdu ہ + hamza composes to ۂ, Arabic ه + hamza does not.
    text = unicodedata.normalize("NFC", text.translate(_LETTER_MAP))
    text = _INVISIBLE_RE.sub("", text).replace(_ZWNJ, " ").replace(_TATWEEL, "")
    text = _strip_marks(text)
    # NFC composes ے + hamza into ۓ; standard Urdu spelling writes that as ئے.
    text = text.replace("ۓ", "ئے")
    text = _fix_do_chashmi_he(text)
    if _ARABIC_LETTER_RE.search(text):
        # Urdu marks only in Urdu text: Roman Urdu keeps its Latin punctuation.
        text = text.translate(_PUNCT_MAP)
        text = _LATIN_STOP_RE.sub(URDU_FULL_STOP, text)
    text = _SPACES_RE.sub(" ", text).strip()
    text = _SPACE_BEFORE_MARK_RE.sub(r"\1", text)
    return _REPEATED_MARK_RE.sub(r"\1", text)


def _fix_do_chashmi_he(text: str) -> str:
    """ھ that cannot be aspiration (word-initial, after a vowel letter) is really ہ."""
    if "ھ" not in text:
        return text
    chars = list(text)
    for i, char in enumerate(chars):
        if char == "ھ" and (i == 0 or chars[i - 1] not in _ASPIRABLE):
            chars[i] = "ہ"
    return "".join(chars)


def matching_key(text: str) -> str:
    """Aggressive comparison form: lower case, no punctuation, confusable letters folded.

    On top of ``normalize_urdu``: hamza seats folded (آ→ا, ؤ→و, ئ and lone ء dropped),
    ے→ی, ھ→ہ, ں→ن, ۃ→ت, Urdu digits to ASCII, punctuation replaced by spaces.
    Never show it to a user: it is deliberately not correct Urdu.
    """
    text = normalize_urdu(text).lower()
    text = text.translate(_KEY_MAP).translate(_DIGITS_TO_ASCII)
    text = _NON_WORD_RE.sub(" ", text).replace("_", " ")
    return _SPACES_RE.sub(" ", text).strip()


def looks_like_question(text: str) -> bool:
    """Whether an unpunctuated Urdu sentence is a question.

    Initial "کیا" asks a yes/no question; the wh-words (کون، کہاں، کب، کیوں ...) ask
    anywhere. Mid-sentence "کیا" is also "did" ("میں نے کام کیا"), so it counts only in a
    clause without ergative "نے".
    """
    stripped = normalize_urdu(text).rstrip(" ۔.!")
    if stripped.endswith((URDU_QUESTION_MARK, "?")):
        return True
    words = _WORD_RE.findall(stripped)
    if not words:
        return False
    if words[0] == "کیا":
        return True
    if any(word in _QUESTION_WORDS for word in words):
        return True
    return "کیا" in words[1:] and "نے" not in words


def to_display(text: str) -> str:
    """Clean Urdu script for showing: normalised, ending in ``۔`` or (questions) ``؟``.

    An explicit end mark is kept (as its Urdu form); without one, the sentence is
    judged by ``looks_like_question``. Text with no Arabic-script letters (Roman Urdu,
    Devanagari) is normalised but gets no Urdu end mark; text with no letters or digits
    at all displays as nothing.
    """
    text = normalize_urdu(text)
    script = script_of(text)
    if script == "none":
        return text if any(ch.isalnum() for ch in text) else ""
    if script in ("latin", "devanagari"):
        return text
    body = text.rstrip(" ۔؟!.،؛:")
    if not body:
        return ""
    ending = text[len(body) :].strip()
    if ending.startswith(URDU_QUESTION_MARK):
        return body + URDU_QUESTION_MARK
    if ending.startswith(URDU_FULL_STOP):
        return body + URDU_FULL_STOP
    return body + (URDU_QUESTION_MARK if looks_like_question(body) else URDU_FULL_STOP)


def script_of(text: str) -> Script:
    """Which script the letters of ``text`` are in (digits and punctuation ignored).

    ``"mixed"`` when letters of more than one script occur (or of a script other than
    these three); ``"none"`` when there are no letters at all.
    """
    found = [
        name
        for name, pattern in (
            ("arabic", _ARABIC_LETTER_RE),
            ("latin", _LATIN_LETTER_RE),
            ("devanagari", _DEVANAGARI_LETTER_RE),
        )
        if pattern.search(text)
    ]
    if len(found) > 1 or _OTHER_LETTER_RE.search(text):
        return "mixed"
    if not found:
        return "none"
    return "arabic" if found[0] == "arabic" else "latin" if found[0] == "latin" else "devanagari"


def is_urdu_script(text: str) -> bool:
    """True when most letters are Arabic-script (Urdu with a Latin loanword counts)."""
    arabic = len(_ARABIC_LETTER_RE.findall(text))
    return arabic > 0 and arabic >= len(_ANY_LETTER_RE.findall(text)) - arabic
