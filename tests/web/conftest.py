"""Fixtures for the web client: the app with fake engines (fast tests of the routes)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.conftest import RunningApp, Script, fake_services_factory, make_settings, serve
from ustad.app import create_app


@pytest.fixture
def web_app(tmp_path: Path) -> Iterator[RunningApp]:
    """ustad with fake recognisers and voices, served on a free port."""
    settings = make_settings(tmp_path)
    script = Script()
    with serve(create_app(settings, services_factory=fake_services_factory(script))) as address:
        yield RunningApp(address, settings, script)
