"""USTAD_RUNTIME__*: the admission cap follows the engine threads unless it is set."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from ustad.learn.policy import TurnPolicy
from ustad.runtime_settings import TURNS_IN_FLIGHT_PER_ENGINE_THREAD, RuntimeSettings
from ustad.settings import Settings


@pytest.mark.parametrize("threads", [1, 2, 8, 64])
def test_unset_cap_is_a_fixed_number_of_turns_per_engine_thread(threads: int) -> None:
    runtime = RuntimeSettings(executor_workers=threads)
    assert runtime.max_turns_in_flight is None
    assert runtime.turns_in_flight_limit == TURNS_IN_FLIGHT_PER_ENGINE_THREAD * threads


def test_two_cores_keep_the_former_default_of_twelve() -> None:
    assert RuntimeSettings(executor_workers=2).turns_in_flight_limit == 12


@pytest.mark.parametrize("cap", [0, 1, 12, 100])
def test_a_set_cap_wins_and_zero_still_means_no_limit(cap: int) -> None:
    runtime = RuntimeSettings(executor_workers=8, max_turns_in_flight=cap)
    assert runtime.turns_in_flight_limit == cap


def test_the_turn_policy_gets_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("USTAD_RUNTIME__MAX_TURNS_IN_FLIGHT", raising=False)
    monkeypatch.setenv("USTAD_RUNTIME__EXECUTOR_WORKERS", "4")
    assert TurnPolicy.from_settings(Settings()).max_turns_in_flight == 24
    monkeypatch.setenv("USTAD_RUNTIME__MAX_TURNS_IN_FLIGHT", "0")
    assert TurnPolicy.from_settings(Settings()).max_turns_in_flight == 0


def test_a_negative_cap_fails_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("USTAD_RUNTIME__MAX_TURNS_IN_FLIGHT", "-1")
    with pytest.raises(ValidationError):
        Settings()
