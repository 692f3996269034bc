"""Client values in log lines are short and cannot forge lines."""

from __future__ import annotations

import pytest

from ustad.logs import for_log


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("hello", "'hello'"),
        ("a\nb\x00c\rd", "'a\\nb\\x00c\\rd'"),
        (None, "None"),
        (3, "3"),
        (2.5, "2.5"),
        (10**200, "<a very large integer>"),
        ([1, 2], "<list>"),
        ({"a": 1}, "<dict>"),
    ],
)
def test_values_are_shown_safely(value: object, expected: str) -> None:
    assert for_log(value) == expected


def test_long_text_is_cut_and_its_length_noted() -> None:
    shown = for_log("x" * 8_000_000)
    assert len(shown) < 120 and "8000000 long" in shown
    assert "\n" not in for_log("line\n" * 1000)


def test_tokens_in_logged_urls_are_redacted() -> None:
    import logging

    from ustad.logs import RedactTokens

    record = logging.LogRecord(
        "uvicorn.error",
        logging.INFO,
        "",
        0,
        '%s - "WebSocket %s" [accepted]',
        (
            "127.0.0.1:5",
            "/ws/learn?learner_id=x&token=eyJhbGci.abc.def&language_mode=urdu"
            "&resume_token=Zq3_secret-resume-token",
        ),
        None,
    )
    assert RedactTokens().filter(record)
    line = record.getMessage()
    assert "eyJ" not in line and "token=[redacted]" in line and "language_mode=urdu" in line
    assert "Zq3" not in line and "resume_token=[redacted]" in line
