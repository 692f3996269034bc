"""Spelling-to-sound keys for English words, for telling homophones from near-misses.

:func:`sound_key` is a Metaphone-like code that keeps rough vowel classes, so words that
sound alike share a key (right/write, meet/meat) while minimal pairs do not (ship/sheep).
:func:`consonant_key` keeps only the consonant skeleton with voicing merged, so minimal
pairs share it: the looser test for a phonetic near-miss. Both return ``""`` for a word
without letters and never raise.
"""

from __future__ import annotations

import re

_VOWELS = "aeiouy"
_INITIAL_FIXES: tuple[tuple[str, str], ...] = (
    ("kn", "n"),
    ("gn", "n"),
    ("pn", "n"),
    ("ps", "s"),
    ("wr", "r"),
    ("wh", "w"),
    ("x", "z"),
)
# Vowel spellings -> rough vowel class (lower case, so they never clash with consonants).
_VOWEL_GROUPS: dict[str, str] = {
    "a": "a",
    "e": "e",
    "i": "i",
    "o": "o",
    "u": "u",
    "y": "i",
    "ai": "ey",
    "ay": "ey",
    "ei": "ey",
    "ey": "ey",
    "eigh": "ey",
    "ea": "iy",
    "ee": "iy",
    "ie": "iy",
    "eo": "iy",
    "igh": "ay",
    "uy": "ay",
    "oa": "ow",
    "oe": "ow",
    "ough": "o",
    "augh": "ao",
    "oo": "uw",
    "ou": "aw",
    "ue": "uw",
    "ew": "uw",
    "ui": "uw",
    "eu": "uw",
    "au": "ao",
    "aw": "ao",
    "oi": "oy",
    "oy": "oy",
    "ow": "aw",
    "eau": "ow",
}
_LONG_VOWELS: dict[str, str] = {"a": "ey", "e": "iy", "i": "ay", "o": "ow", "u": "uw", "y": "ay"}
_R_COLOURED: frozenset[str] = frozenset({"e", "i", "u"})
# Frequent words whose spelling misleads the rules (keys written as the rules would).
_KEY_EXCEPTIONS: dict[str, str] = {
    "a": "a",
    "the": "0a",
    "to": "Tuw",
    "two": "Tuw",
    "too": "Tuw",
    "do": "Duw",
    "who": "Huw",
    "you": "Yuw",
    "your": "YoR",
    "of": "aV",
    "one": "WaN",
    "won": "WaN",
    "once": "WaNS",
    "come": "KaM",
    "some": "SaM",
    "done": "DaN",
    "none": "NaN",
    "love": "LaV",
    "from": "FRaM",
    "what": "WaT",
    "was": "WaZ",
    "does": "DaZ",
    "are": "aR",
    "were": "WerR",
    "where": "WeR",
    "there": "0eR",
    "their": "0eR",
    "have": "HaV",
    "give": "GiV",
    "gone": "GoN",
    "could": "KuD",
    "would": "WuD",
    "should": "XuD",
    "said": "SeD",
    "says": "SeZ",
    "again": "aGeN",
    "any": "eNiy",
    "many": "MeNiy",
    "eye": "ay",
    "people": "PiyPL",
    "friend": "FReND",
    "four": "FoR",
    "great": "GReyT",
    "break": "BReyK",
    "been": "BiN",
    "through": "0Ruw",
    "though": "0ow",
}
_VOICED_TO_VOICELESS = str.maketrans({"B": "P", "D": "T", "G": "K", "V": "F", "Z": "S", "J": "X"})
_VOWEL_RUN_RE = re.compile(r"[aeiou]*y(?![aeiou])|ye$|[aeiou]+")


def _consonant_code(w: str, i: int) -> tuple[str, int]:
    """The sound code of the consonant(s) at ``w[i]`` and how many letters they use."""
    ch = w[i]
    nxt = w[i + 1] if i + 1 < len(w) else ""
    after = w[i + 2] if i + 2 < len(w) else ""
    if ch == "b":
        return ("", 1) if i > 0 and w[i - 1] == "m" and i == len(w) - 1 else ("B", 1)
    if ch == "c":
        if nxt == "h":
            return "X", 2
        if nxt == "k":
            return "K", 2
        if nxt in ("e", "i", "y"):
            return "S", 1
        return "K", 1
    if ch == "s" and nxt == "c" and after in ("e", "i", "y"):
        return "S", 2
    if ch == "d":
        if nxt == "g" and after in ("e", "i", "y"):
            return "J", 2
        return "D", 1
    if ch == "g":
        if nxt == "h":
            return ("G", 2) if i == 0 else ("", 2)
        if nxt == "n" and i + 2 >= len(w):
            return "N", 2
        if nxt in ("e", "i", "y"):
            return "J", 1
        return "G", 1
    if ch == "h":
        return ("H", 1) if nxt and nxt in _VOWELS else ("", 1)
    if ch == "p":
        return ("F", 2) if nxt == "h" else ("P", 1)
    if ch == "q":
        return ("KW", 2) if nxt == "u" else ("K", 1)
    if ch == "s":
        if nxt == "h":
            return "X", 2
        if nxt == "i" and after in ("o", "a"):
            return "X", 2
        return "S", 1
    if ch == "t":
        if nxt == "h":
            return "0", 2
        if nxt == "i" and after in ("o", "a"):
            return "X", 2
        if nxt == "c" and after == "h":
            return "X", 3
        return "T", 1
    if ch == "w":
        return ("W", 1) if nxt and nxt in _VOWELS else ("", 1)
    if ch == "x":
        return "KS", 1
    if ch == "y":
        return "Y", 1
    return ch.upper(), 1


def _vowel_code(w: str, start: int, end: int) -> tuple[str, int]:
    """Class of the vowel spelling ``w[start:end]`` (may swallow a silent "gh" or "w")."""
    group = w[start:end]
    if w.startswith("gh", end) and group + "gh" in _VOWEL_GROUPS:
        return _VOWEL_GROUPS[group + "gh"], end + 2
    if (
        group in ("a", "e", "o")
        and end < len(w)
        and w[end] == "w"
        and (end + 1 == len(w) or w[end + 1] not in _VOWELS)
    ):
        return _VOWEL_GROUPS[group + "w"], end + 1
    if group == "i" and w.startswith("gh", end):
        return "ay", end + 2
    only_vowel = not any(c in _VOWELS for c in w[:start] + w[end:])
    at_end = end == len(w)
    if len(group) == 1:
        rest = w[end:]
        # Magic e: "made", "mike", "rode" (one consonant, then a final e).
        if re.fullmatch(r"[b-df-hj-np-tv-z]es?|[b-df-hj-np-tv-z]ed", rest):
            return _LONG_VOWELS[group], end
        if at_end and (only_vowel or group == "y"):
            return (_LONG_VOWELS[group] if only_vowel else "iy"), end
        if (
            group in _R_COLOURED
            and rest.startswith("r")
            and (len(rest) == 1 or rest[1] not in _VOWELS)
        ):
            return "er", end
        return _VOWEL_GROUPS[group], end
    if group in ("ie", "ye") and at_end:
        return "ay", end
    if group in _VOWEL_GROUPS:
        return _VOWEL_GROUPS[group], end
    # An unusual run ("oui", "iou"): its first two letters decide.
    return _VOWEL_GROUPS.get(group[:2], _VOWEL_GROUPS[group[0]]), end


def sound_key(word: str) -> str:
    """A spelling-to-sound code: consonants in upper case, vowel classes in lower case.

    Words that sound alike get the same key (right/write, meet/meat, which/witch,
    know/no) while minimal pairs keep theirs apart (ship/sheep, bat/bit). English
    spelling is irregular, so this is a heuristic;
    :data:`ustad.assess.word_match.HOMOPHONE_GROUPS` covers common words it gets wrong.
    """
    w = "".join(ch for ch in word.lower() if ch.isalpha())
    if not w:
        return ""
    if w in _KEY_EXCEPTIONS:
        return _KEY_EXCEPTIONS[w]
    for prefix, replacement in _INITIAL_FIXES:
        if w.startswith(prefix) and len(w) > len(prefix):
            w = replacement + w[len(prefix) :]
            break
    codes: list[str] = []
    i = 0
    while i < len(w):
        run = _VOWEL_RUN_RE.match(w, i) if not (w[i] == "y" and i == 0) else None
        silent_e = w[i] == "e" and i == len(w) - 1 and any(c in _VOWELS for c in w[:i])
        if silent_e:
            code, i = "", i + 1  # "made": the e only lengthens the vowel before it
        elif run:
            code, i = _vowel_code(w, i, run.end())
        elif i > 0 and w[i] == w[i - 1] and w[i] not in _VOWELS:
            code, i = "", i + 1  # double consonant
        else:
            code, used = _consonant_code(w, i)
            i += used
        if code and not (codes and codes[-1] == code):
            codes.append(code)
    return "".join(codes)


def consonant_key(word: str) -> str:
    """A loose key: the consonant skeleton with voicing merged (for near-misses)."""
    key = sound_key(word)
    if not key:
        return ""
    skeleton = "".join(ch for ch in key if not ch.islower()).translate(_VOICED_TO_VOICELESS)
    start = "A" if key[0].islower() else ""
    return re.sub(r"(.)\1+", r"\1", start + skeleton)
