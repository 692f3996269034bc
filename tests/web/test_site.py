"""The web client's files: served at / and /static/, revalidated, complete."""

from __future__ import annotations

import re
import tomllib
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.api.conftest import RunningApp
from tests.conftest import REPO_ROOT
from ustad.web.site import STATIC_DIR


@pytest.fixture
async def http(web_app: RunningApp) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=f"http://{web_app.address}") as client:
        yield client


async def test_the_page_is_served_at_the_root(http: httpx.AsyncClient) -> None:
    response = await http.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-cache"
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert '<script type="module" src="/static/js/app.js">' in response.text
    # Revalidation is a 304, still with the page's headers.
    again = await http.get("/", headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304
    assert again.headers["cache-control"] == "no-cache"


async def test_assets_are_revalidated_not_cached_blindly(http: httpx.AsyncClient) -> None:
    script = await http.get("/static/js/app.js")
    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]
    assert script.headers["cache-control"] == "no-cache"
    assert script.headers["x-content-type-options"] == "nosniff"
    again = await http.get("/static/js/app.js", headers={"If-None-Match": script.headers["etag"]})
    assert again.status_code == 304
    assert (await http.get("/static/style.css")).headers["content-type"].startswith("text/css")


async def test_nothing_outside_the_static_folder_is_served(http: httpx.AsyncClient) -> None:
    for path in ("/static/../site.py", "/static/%2e%2e/site.py", "/static/missing.js"):
        assert (await http.get(path)).status_code == 404, path


def test_every_file_the_page_refers_to_exists() -> None:
    html = (STATIC_DIR / "index.html").read_text(encoding="utf-8")
    referenced = set(re.findall(r'(?:src|href)="/static/([^"]+)"', html))
    for script in (STATIC_DIR / "js").glob("*.js"):
        imports = re.findall(r'from "\./([^"]+)"', script.read_text(encoding="utf-8"))
        referenced.update(f"js/{name}" for name in imports)
    assert {"style.css", "icon.svg", "js/app.js", "js/socket.js", "js/views.js"} <= referenced
    missing = sorted(name for name in referenced if not (STATIC_DIR / name).is_file())
    assert missing == []


def test_an_installed_package_carries_the_client() -> None:
    config = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["ustad"]
    package_root = STATIC_DIR.parents[1]
    shipped = {p for pattern in patterns for p in package_root.glob(pattern)}
    assert set(STATIC_DIR.rglob("*.*")) <= shipped
