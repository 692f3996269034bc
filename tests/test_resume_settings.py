"""USTAD_RESUME__*: on by default, read from the environment, bounded."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from ustad.resume_settings import ResumeSettings
from ustad.settings import Settings


def test_resuming_is_on_by_default_for_five_minutes() -> None:
    settings = Settings().resume
    assert settings.enabled and settings.ttl_seconds == 300


def test_the_environment_sets_the_group(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("USTAD_RESUME__TTL_SECONDS", "60")
    monkeypatch.setenv("USTAD_RESUME__ENABLED", "false")
    settings = Settings().resume
    assert settings.ttl_seconds == 60 and not settings.enabled


@pytest.mark.parametrize("values", [{"ttl_seconds": 0}, {"max_entries": 0}, {"ttl": 5}])
def test_out_of_range_or_unknown_values_are_refused(values: dict[str, int]) -> None:
    with pytest.raises(ValidationError):
        ResumeSettings.model_validate(values)
