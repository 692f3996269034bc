"""British spellings and compound variants compare as one word."""

from __future__ import annotations

from ustad.text.spelling import CLOSED_COMPOUNDS, comparable_word


def test_british_spellings_map_to_american() -> None:
    pairs = [
        ("colour", "color"),
        ("organise", "organize"),
        ("travelling", "traveling"),
        ("kilometre", "kilometer"),
        ("programme", "program"),
        ("judgement", "judgment"),
    ]
    assert [comparable_word(b) for b, _ in pairs] == [a for _, a in pairs]


def test_closed_compounds_join_their_pieces() -> None:
    assert CLOSED_COMPOUNDS[("wi", "fi")] == "wifi"
    assert CLOSED_COMPOUNDS[("e", "mail")] == "email"
    assert all(joined == "".join(pieces) for pieces, joined in CLOSED_COMPOUNDS.items())
