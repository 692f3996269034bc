"""Word tables of the English spoken form: abbreviations, units, currencies, roman numerals.

Kept apart from the rules in :mod:`ustad.text.english` so the rules stay readable. All
keys are lower case; spoken forms use American spelling (the voice is en_US, and
:mod:`ustad.text.spelling` maps British spellings for comparison anyway).
"""

from __future__ import annotations

from typing import Final

# Abbreviations that always mean one thing when written with their full stop.
DOTTED: Final[dict[str, str]] = {
    "mr": "mister",
    "mrs": "missus",
    "ms": "miz",
    "jr": "junior",
    "sr": "senior",
    "prof": "professor",
    "mt": "mount",
    "ave": "avenue",
    "rd": "road",
    "blvd": "boulevard",
    "hwy": "highway",
    "ln": "lane",
    "sq": "square",
    "apt": "apartment",
    "dept": "department",
    "univ": "university",
    "govt": "government",
    "gov": "governor",
    "gen": "general",
    "capt": "captain",
    "col": "colonel",
    "lt": "lieutenant",
    "sgt": "sergeant",
    "cpl": "corporal",
    "rev": "reverend",
    "hon": "honorable",
    "pres": "president",
    "supt": "superintendent",
    "ltd": "limited",
    "inc": "incorporated",
    "corp": "corporation",
    "co": "company",
    "bros": "brothers",
    "approx": "approximately",
    "esp": "especially",
    "est": "established",
    "fig": "figure",
    "vol": "volume",
    "ch": "chapter",
    "p": "page",
    "pp": "pages",
    "vs": "versus",
    "etc": "et cetera",
    "e.g": "for example",
    "i.e": "that is",
    "a.k.a": "also known as",
    "wwi": "World War One",
    "ww1": "World War One",
    "wwii": "World War Two",
    "ww2": "World War Two",
    "ph.d": "p h d",
    "a.m": "a m",
    "p.m": "p m",
    "a.d": "a d",
    "b.c": "b c",
}
# Also said the same way without a full stop (none of these is an English word).
UNDOTTED: Final[frozenset[str]] = frozenset(
    {"mr", "mrs", "jr", "sr", "prof", "blvd", "hwy", "dept", "govt", "capt", "sgt"}
    | {"ltd", "vs", "etc", "approx", "wwi", "ww1", "wwii", "ww2"}
)
DAYS: Final[dict[str, str]] = {
    "mon": "Monday",
    "tue": "Tuesday",
    "tues": "Tuesday",
    "wed": "Wednesday",
    "thu": "Thursday",
    "thur": "Thursday",
    "thurs": "Thursday",
    "fri": "Friday",
    "sat": "Saturday",
    "sun": "Sunday",
}
MONTHS: Final[dict[str, str]] = {
    "jan": "January",
    "feb": "February",
    "mar": "March",
    "apr": "April",
    "jun": "June",
    "jul": "July",
    "aug": "August",
    "sep": "September",
    "sept": "September",
    "oct": "October",
    "nov": "November",
    "dec": "December",
}
MONTH_NAMES: Final[frozenset[str]] = frozenset({name.lower() for name in MONTHS.values()} | {"may"})
# Units after a number: written form -> (singular, plural). Case matters for a few
# ("M" is not "m"), so lookups try the exact form first, then lower case.
UNITS: Final[dict[str, tuple[str, str]]] = {
    "kg": ("kilogram", "kilograms"),
    "kgs": ("kilogram", "kilograms"),
    "g": ("gram", "grams"),
    "gm": ("gram", "grams"),
    "gms": ("gram", "grams"),
    "mg": ("milligram", "milligrams"),
    "lb": ("pound", "pounds"),
    "lbs": ("pound", "pounds"),
    "oz": ("ounce", "ounces"),
    "km": ("kilometer", "kilometers"),
    "kms": ("kilometer", "kilometers"),
    "m": ("meter", "meters"),
    "cm": ("centimeter", "centimeters"),
    "mm": ("millimeter", "millimeters"),
    "mi": ("mile", "miles"),
    "ft": ("foot", "feet"),
    "¢": ("cent", "cents"),
    "yd": ("yard", "yards"),
    "yds": ("yard", "yards"),
    "km/h": ("kilometer per hour", "kilometers per hour"),
    "kmh": ("kilometer per hour", "kilometers per hour"),
    "kmph": ("kilometer per hour", "kilometers per hour"),
    "kph": ("kilometer per hour", "kilometers per hour"),
    "mph": ("mile per hour", "miles per hour"),
    "m/s": ("meter per second", "meters per second"),
    "l": ("liter", "liters"),
    "ltr": ("liter", "liters"),
    "ml": ("milliliter", "milliliters"),
    "°c": ("degree Celsius", "degrees Celsius"),
    "°f": ("degree Fahrenheit", "degrees Fahrenheit"),
    "°": ("degree", "degrees"),
    "c°": ("degree Celsius", "degrees Celsius"),
    "h": ("hour", "hours"),
    "hr": ("hour", "hours"),
    "hrs": ("hour", "hours"),
    "min": ("minute", "minutes"),
    "mins": ("minute", "minutes"),
    "sec": ("second", "seconds"),
    "secs": ("second", "seconds"),
    "ms": ("millisecond", "milliseconds"),
    "kb": ("kilobyte", "kilobytes"),
    "mb": ("megabyte", "megabytes"),
    "gb": ("gigabyte", "gigabytes"),
    "tb": ("terabyte", "terabytes"),
    "hz": ("hertz", "hertz"),
    "khz": ("kilohertz", "kilohertz"),
    "mhz": ("megahertz", "megahertz"),
    "ghz": ("gigahertz", "gigahertz"),
    "kw": ("kilowatt", "kilowatts"),
    "kwh": ("kilowatt hour", "kilowatt hours"),
    "w": ("watt", "watts"),
    "v": ("volt", "volts"),
    "ha": ("hectare", "hectares"),
    "%": ("percent", "percent"),
}
# Currency before an amount: written form -> (singular, plural, hundredth, hundredths).
CURRENCY_SIGNS: Final[dict[str, tuple[str, str, str, str]]] = {
    "$": ("dollar", "dollars", "cent", "cents"),
    "us$": ("dollar", "dollars", "cent", "cents"),
    "usd": ("dollar", "dollars", "cent", "cents"),
    "£": ("pound", "pounds", "penny", "pence"),
    "gbp": ("pound", "pounds", "penny", "pence"),
    "€": ("euro", "euros", "cent", "cents"),
    "eur": ("euro", "euros", "cent", "cents"),
    "₨": ("rupee", "rupees", "paisa", "paisa"),
    "₹": ("rupee", "rupees", "paisa", "paisa"),
    "rs": ("rupee", "rupees", "paisa", "paisa"),
    "rs.": ("rupee", "rupees", "paisa", "paisa"),
    "pkr": ("rupee", "rupees", "paisa", "paisa"),
    "inr": ("rupee", "rupees", "paisa", "paisa"),
    "¥": ("yen", "yen", "sen", "sen"),
}
SCALE_WORDS: Final[frozenset[str]] = frozenset(
    {"thousand", "million", "billion", "trillion", "lakh", "lakhs", "crore", "crores"}
    | {"k", "m", "bn"}
)
SCALE_ABBREVIATIONS: Final[dict[str, str]] = {"k": "thousand", "m": "million", "bn": "billion"}
FRACTION_NAMES: Final[dict[int, tuple[str, str]]] = {
    2: ("half", "halves"),
    4: ("quarter", "quarters"),
}
# A roman numeral after these is a plain number ("World War Two", "Chapter Four").
ROMAN_CARDINAL_CONTEXT: Final[frozenset[str]] = frozenset(
    {"war", "chapter", "part", "act", "scene", "volume", "vol", "book", "section", "phase"}
    | {"stage", "level", "class", "grade", "round", "episode", "article", "schedule"}
    | {"apollo", "vatican", "type", "rocky", "super", "bowl", "unit", "lesson", "step"}
)
# Names of kings, queens, popes and emperors often followed by a numeral: after these even
# a one-letter numeral ("Elizabeth I", "Charles V") is regnal, not the pronoun.
REGNAL_NAMES: Final[frozenset[str]] = frozenset(
    {
        "henry",
        "elizabeth",
        "charles",
        "george",
        "edward",
        "william",
        "james",
        "richard",
        "john",
        "mary",
        "anne",
        "louis",
        "philip",
        "peter",
        "catherine",
        "nicholas",
        "alexander",
        "frederick",
        "paul",
        "pius",
        "benedict",
        "leo",
        "gregory",
        "innocent",
        "clement",
        "urban",
        "boniface",
        "victor",
        "napoleon",
        "ferdinand",
        "wilhelm",
        "otto",
        "ivan",
        "mehmed",
        "murad",
        "selim",
        "suleiman",
        "ramesses",
        "ptolemy",
        "constantine",
        "justinian",
        "theodosius",
    }
)
ROMAN_VALUES: Final[dict[str, int]] = {"i": 1, "v": 5, "x": 10, "l": 50, "c": 100}
RULER_TITLES: Final[frozenset[str]] = frozenset(
    {"king", "queen", "pope", "emperor", "empress", "tsar", "czar", "sultan", "shah", "saint"}
    | {"prince", "princess", "pharaoh", "caliph", "emir", "st"}
)
"""Titles before a ruler's name: its numeral is one whatever word follows."""
PRONOUN_VERBS: Final[frozenset[str]] = frozenset(
    {"am", "have", "do", "don't", "can", "can't", "will", "won't", "would", "could"}
    | {"should", "must", "love", "like", "think", "know", "want", "need", "hope", "mean"}
    | {"see", "feel", "believe", "guess", "hate", "miss", "agree", "wish", "'m", "'ll"}
)
"""Verbs in the form that goes with "I" but not with a ruler ("Mary I love you"): an "I"
before one is the pronoun."""
CLOCK_WORDS: Final[frozenset[str]] = frozenset({"at", "until", "till", "around"})
"""Words after which "9.30" is a clock time (nine thirty), not a decimal."""
DIALLING_WORDS: Final[frozenset[str]] = frozenset(
    {"call", "dial", "ring", "text", "phone", "tel", "ext", "extension", "pin", "whatsapp"}
)
"""Words after which a group of three or more digits not ending in "00" is said digit by
digit ("call 911", "dial 1122", "ext 204"): a number one calls. Round hundreds stay
quantities ("call 100 people")."""
YEAR_CONTEXT: Final[frozenset[str]] = frozenset(
    {"in", "since", "of", "year", "by", "from", "until", "till", "before", "after", "around"}
    | {"during", "circa", "c", "born", "died", "early", "late", "mid", "the", "summer"}
    | {"winter", "spring", "autumn", "fall", "between", "and", "to", "through"}
)
YEAR_COPULAS: Final[frozenset[str]] = frozenset({"is", "was", "were"})
"""A four-digit number is a year after one of these at a sentence's end ("It was 1999.")
or before one at its start ("1999 was a good year")."""
SCORE_WORDS: Final[frozenset[str]] = frozenset(
    {"scored", "score", "scores", "got", "get", "gets", "rated", "rating", "marks", "out"}
)
"""Before a fraction, it is a score: "scored 9/10" -> nine out of ten."""
YEAR_SUFFIXES: Final[dict[str, str]] = {
    "bc": "b c",
    "b.c": "b c",
    "bce": "b c e",
    "ad": "a d",
    "a.d": "a d",
    "ce": "c e",
}
