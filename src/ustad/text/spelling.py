"""British spellings and hyphen or spacing variants as one comparable word.

A learner whose target says "colour" and whose recogniser writes "color" said the same
word; so did one whose target says "Wi-Fi" when the recogniser wrote "WiFi". Both sides
of a comparison go through :func:`comparable_word`; the spoken form of a sentence for a
voice never needs it (both spellings are said alike).
"""

from __future__ import annotations

__all__ = ["CLOSED_COMPOUNDS", "SPELLING_VARIANTS", "comparable_word"]

_OUR_WORDS = (
    "colour armour behaviour endeavour favour flavour harbour honour humour labour "
    "neighbour odour parlour rumour savour vapour"
)
_ISE_STEMS = (
    "apologis authoris categoris criticis emphasis finalis maximis memoris minimis "
    "organis prioritis realis recognis specialis summaris analys paralys"
)
_RE_WORDS = (
    "centre theatre metre litre fibre meagre sombre calibre kilometre centimetre millimetre "
    "millilitre"
)
_LL_STEMS = "travel cancel label model fuel quarrel signal"
_OTHER_SPELLINGS = {
    "grey": "gray",
    "greys": "grays",
    "programme": "program",
    "programmes": "programs",
    "catalogue": "catalog",
    "cheque": "check",
    "cheques": "checks",
    "tyre": "tire",
    "tyres": "tires",
    "defence": "defense",
    "licence": "license",
    "offence": "offense",
    "jewellery": "jewelry",
    "pyjamas": "pajamas",
    "aluminium": "aluminum",
    "plough": "plow",
    "mould": "mold",
    "aeroplane": "airplane",
    "aeroplanes": "airplanes",
    "mum": "mom",
    "practise": "practice",
    "practised": "practiced",
    "practising": "practicing",
    "storey": "story",
    "analogue": "analog",
    "dialogue": "dialog",
    "enrol": "enroll",
    "fulfil": "fulfill",
    "skilful": "skillful",
    "cosy": "cozy",
    "doughnut": "donut",
    "draught": "draft",
    "kerb": "curb",
    "manoeuvre": "maneuver",
    "paediatric": "pediatric",
    "encyclopaedia": "encyclopedia",
    "ageing": "aging",
    "judgement": "judgment",
}


def _british_to_american() -> dict[str, str]:
    """A small table of British spellings and their American forms (with inflections)."""
    table: dict[str, str] = {}
    for stem in _OUR_WORDS.split():
        for suffix in ("", "s", "ed", "ing", "ful", "ite", "ites", "able", "hood"):
            table[stem + suffix] = stem[:-3] + "or" + suffix
    for stem in _ISE_STEMS.split():
        for suffix in ("e", "es", "ed", "ing", "ation", "ations"):
            table[stem + suffix] = stem[:-1] + "z" + suffix
    for word in _RE_WORDS.split():
        table[word] = word[:-2] + "er"
        table[word + "s"] = word[:-2] + "ers"
    for stem in _LL_STEMS.split():
        for suffix in ("led", "ling", "ler", "lers"):
            table[stem + suffix] = stem + suffix[1:]
    return table | _OTHER_SPELLINGS


SPELLING_VARIANTS: dict[str, str] = _british_to_american()
"""British spelling -> American spelling; applied to both sides."""


CLOSED_COMPOUNDS: dict[tuple[str, ...], str] = {
    ("wi", "fi"): "wifi",
    ("e", "mail"): "email",
    ("e", "mails"): "emails",
    ("e", "commerce"): "ecommerce",
    ("e", "book"): "ebook",
    ("e", "books"): "ebooks",
    ("on", "line"): "online",
    ("off", "line"): "offline",
    ("web", "site"): "website",
    ("web", "sites"): "websites",
    ("week", "end"): "weekend",
    ("week", "ends"): "weekends",
    ("to", "day"): "today",
    ("to", "night"): "tonight",
    ("to", "morrow"): "tomorrow",
    ("t", "shirt"): "tshirt",
    ("t", "shirts"): "tshirts",
    ("x", "ray"): "xray",
    ("co", "operate"): "cooperate",
    ("head", "phones"): "headphones",
    ("smart", "phone"): "smartphone",
    ("smart", "phones"): "smartphones",
    ("lap", "top"): "laptop",
    ("note", "book"): "notebook",
    ("pass", "word"): "password",
    ("user", "name"): "username",
    ("log", "in"): "login",
}
"""Hyphenated or spaced pieces written as one word ("Wi-Fi", "wi fi" -> wifi)."""


def comparable_word(word: str) -> str:
    """A lower-case word in its American spelling ("colour" -> color)."""
    return SPELLING_VARIANTS.get(word, word)
