"""The web client with learner tokens on, in headless Chromium (fake engines).

The deployment's sign-in opens the page as ``/#token=<jwt>``: the page must keep the
token, drop it from the address bar, open the socket as the token's learner and
read that learner's history with it. Without the token the socket is refused.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import jwt
import pytest
from playwright.sync_api import Browser, Response, expect, sync_playwright
from pydantic import SecretStr

from tests.api.conftest import RunningApp, Script, fake_services_factory, make_settings, serve
from tests.web.conftest import launch_chromium
from ustad.app import create_app
from ustad.settings import AuthSettings

pytestmark = pytest.mark.browser

SECRET = "a-secret-for-the-page-test-of-32-bytes"
LEARNER = "2b9d8c7e-6f5a-4b3c-9d2e-1f0a9b8c7d6e"


@pytest.fixture
def secured(tmp_path: Path) -> Iterator[RunningApp]:
    settings = make_settings(tmp_path).model_copy(
        update={"auth": AuthSettings(jwt_secret=SecretStr(SECRET))}
    )
    script = Script()
    app = create_app(settings, services_factory=fake_services_factory(script))
    with serve(app, settings) as address:
        yield RunningApp(address, settings, script)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = launch_chromium(playwright)
        try:
            yield launched
        finally:
            launched.close()


def test_a_token_link_signs_the_page_in(secured: RunningApp, browser: Browser) -> None:
    token = jwt.encode({"sub": LEARNER, "exp": int(time.time()) + 600}, SECRET, "HS256")
    page = browser.new_page()
    progress: list[Response] = []
    page.on("response", lambda r: progress.append(r) if "/progress" in r.url else None)
    page.goto(f"http://{secured.address}/#token={token}")
    expect(page.locator("#connection")).to_have_attribute("data-state", "open")
    assert "token" not in page.url
    assert page.evaluate("localStorage.getItem('ustad.token')") == token
    deadline = time.monotonic() + 30  # only so a broken page fails instead of hanging
    while not progress and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert progress and progress[0].status == 200
    assert f"/v1/learners/{LEARNER}/progress" in progress[0].url
    page.close()


def test_without_a_token_the_page_is_not_let_in(secured: RunningApp, browser: Browser) -> None:
    page = browser.new_page()
    page.goto(f"http://{secured.address}/")
    expect(page.locator("#connection")).not_to_have_attribute("data-state", "open", timeout=3000)
    page.close()
