"""Fixtures for the web client: the app with fake engines (fast tests of the routes)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Playwright

from tests.api.conftest import RunningApp, Script, fake_services_factory, make_settings, serve
from ustad.app import create_app


@pytest.fixture
def web_app(tmp_path: Path) -> Iterator[RunningApp]:
    """ustad with fake recognisers and voices, served on a free port."""
    settings = make_settings(tmp_path)
    script = Script()
    with serve(create_app(settings, services_factory=fake_services_factory(script))) as address:
        yield RunningApp(address, settings, script)


CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # This machine's network is closed: no background calls home, no update checks.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def launch_chromium(playwright: Playwright, *extra_args: str) -> Browser:
    """Debian's chromium (no browser download), headless, with ``extra_args``."""
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail("chromium is not installed: run scripts/install-browser.sh (make test does)")
    return playwright.chromium.launch(executable_path=chromium, args=[*CHROMIUM_ARGS, *extra_args])
