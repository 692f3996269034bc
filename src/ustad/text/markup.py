"""Text as a voice should read it: no tags, Markdown, emoji or control characters.

Replies and ``/v1/audio/speech`` input may carry SSML or HTML (``<speak>``, ``<break/>``,
``<b>``), Markdown (``**bold**``, ``# heading``, ```` `code` ````, ``[text](url)``) and
emoji; a voice reads all of these aloud ("speak", "break time", "thumbs up") or chokes
on them (a NUL reached Piper and was an HTTP 500). :func:`strip_markup` keeps the words
and drops the rest. It is language-neutral: Urdu speech goes through it too.
"""

from __future__ import annotations

import html
import re
import unicodedata

__all__ = ["strip_controls", "strip_emoji", "strip_markup"]

_TAG_RE = re.compile(r"</?[A-Za-z][A-Za-z0-9:_-]*(?:\s[^<>]*)?/?>")
_COMMENT_RE = re.compile(r"<!--.*?-->", re.DOTALL)
# "[ \t]" rather than "\s" at line starts: "\s" takes newlines too, and 4000 blank
# lines then cost a quadratic scan (0.5 s) on the event loop.
_FENCE_RE = re.compile(r"^[ \t]*(?:```|~~~)[^\n]*$", re.MULTILINE)
_IMAGE_OR_LINK_RE = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_HEADING_RE = re.compile(r"^[ \t]{0,3}#{1,6}[ \t]+", re.MULTILINE)
_QUOTE_RE = re.compile(r"^[ \t]{0,3}>[ \t]?", re.MULTILINE)
_BULLET_RE = re.compile(r"^[ \t]*(?:[-*+•]|\d+[.)])[ \t]+", re.MULTILINE)
_RULE_RE = re.compile(r"^[ \t]*(?:[-*_][ \t]*){3,}$", re.MULTILINE)
_EMPHASIS_RE = re.compile(r"(\*{1,3}|_{1,3}|~~)(?=\S)(.+?)(?<=\S)\1")
_CODE_RE = re.compile(r"`+([^`]*)`+")
_SPACE_BEFORE_PUNCTUATION_RE = re.compile(r"\s+([.,;:!?)\]}])")
_BLANK_RE = re.compile(r"[ \t\r\n\f\v]+")

_JOINERS = frozenset({"\u200d", "\ufe0e", "\ufe0f", "\u20e3"})
"""Zero-width joiner, variation selectors and the keycap mark, the glue of emoji."""


def _is_emoji(ch: str) -> bool:
    """Pictographs, dingbats, arrows, skin tones, flags' regional indicators and tags.

    "Other symbol" characters from the arrows block (U+2190) up; below it live symbols
    that are read as words (degree sign, copyright), which stay.
    """
    code = ord(ch)
    if 0x1F1E6 <= code <= 0x1F1FF or 0x1F3FB <= code <= 0x1F3FF or 0xE0020 <= code <= 0xE007F:
        return True
    return code >= 0x2190 and unicodedata.category(ch) == "So"


def strip_controls(text: str) -> str:
    """Control characters (NUL, escape, C1 controls) removed; line breaks become spaces.

    Format characters that shape a script (zero-width non-joiner in Urdu) are kept; the
    zero-width space and byte-order mark are removed.
    """
    kept: list[str] = []
    for ch in text:
        if ch in "\t\n\r\v\f":
            kept.append(" ")
        elif unicodedata.category(ch) == "Cc" or ch in "\u200b\ufeff":
            continue
        else:
            kept.append(ch)
    return "".join(kept)


def strip_emoji(text: str) -> str:
    """Emoji and pictographs (with their joiners and modifiers) removed."""
    kept: list[str] = []
    after_emoji = False
    for ch in text:
        if _is_emoji(ch):
            after_emoji = True
            continue
        if ch in _JOINERS and (after_emoji or ch != "\u200d"):
            continue
        after_emoji = False
        kept.append(ch)
    return "".join(kept)


def strip_markup(text: str) -> str:
    """The words of ``text`` as they should be spoken, on one line.

    SSML/HTML tags and comments are removed (their text content kept, entities such as
    ``&amp;`` decoded); Markdown headings, quotes, bullets, rules, code fences and ticks,
    emphasis markers and links (``[text](url)`` -> text) are removed; emoji and control
    characters are removed; whitespace is collapsed and no space is left before closing
    punctuation. ``"<speak>Hello <break time="500ms"/> world</speak>"`` -> "Hello world".
    """
    text = strip_controls(text) if "\n" not in text else _strip_controls_keep_lines(text)
    text = _COMMENT_RE.sub(" ", text)
    text = _TAG_RE.sub(" ", text)
    text = html.unescape(text)
    text = _FENCE_RE.sub(" ", text)
    text = _IMAGE_OR_LINK_RE.sub(r"\1", text)
    text = _RULE_RE.sub(" ", text)
    text = _HEADING_RE.sub("", text)
    text = _QUOTE_RE.sub("", text)
    text = _BULLET_RE.sub("", text)
    text = _CODE_RE.sub(r"\1", text)
    for _ in range(2):  # nested emphasis ("***both***", "**_both_**")
        text = _EMPHASIS_RE.sub(r"\2", text)
    text = strip_emoji(strip_controls(text))
    text = _BLANK_RE.sub(" ", text).strip()
    return _SPACE_BEFORE_PUNCTUATION_RE.sub(r"\1", text)


def _strip_controls_keep_lines(text: str) -> str:
    """Like :func:`strip_controls` but keeping line breaks (Markdown is line-based)."""
    return "\n".join(strip_controls(line) for line in text.splitlines())
