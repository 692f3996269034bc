"""Urdu text as the Urdu voice should say it.

espeak-ng 1.51's Urdu voice reads ASCII digits and Arabic-Indic digits (U+0660-U+0669)
as Urdu numbers but silently skips the Urdu-script digits (U+06F0-U+06F9) that Urdu is
written with: "میری عمر ۲۵ سال ہے۔" lost its number (heard by ear on the packaged
voice). :func:`spoken_urdu` gives every digit script as ASCII digits, which the voice
says, and strips markup, emoji and control characters like the English side.
"""

from __future__ import annotations

from typing import Final

from ustad.text.markup import strip_markup

__all__ = ["SPOKEN_DIGITS", "spoken_urdu"]

SPOKEN_DIGITS: Final = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")
"""Urdu-script (U+06F0-U+06F9) and Arabic-Indic (U+0660-U+0669) digits as ASCII digits."""


def spoken_urdu(text: str) -> str:
    """``text`` for the Urdu voice: markup stripped, all three digit scripts as ASCII.

    "<b>میری عمر ۲۵ سال ہے۔</b>" -> "میری عمر 25 سال ہے۔". Returns "" when nothing is
    left to say.
    """
    return strip_markup(text).translate(SPOKEN_DIGITS)
