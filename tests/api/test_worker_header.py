"""Behind a proxy: each response names its worker, and the client is the proxied one."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.api.conftest import Script, fake_services_factory, make_settings, serve
from ustad.app import create_app
from ustad.settings import LimitSettings, ServerSettings


def test_responses_name_the_worker_and_rate_limits_see_the_forwarded_client(
    tmp_path: Path,
) -> None:
    settings = make_settings(tmp_path).model_copy(
        update={
            "server": ServerSettings(worker_name="worker-7"),
            "limits": LimitSettings(client_rate="2/minute"),
        }
    )
    app = create_app(settings, services_factory=fake_services_factory(Script()))
    with serve(app, settings) as address, httpx.Client(base_url=f"http://{address}") as client:

        def health(forwarded_for: str) -> httpx.Response:
            return client.get("/health", headers={"X-Forwarded-For": forwarded_for})

        first = health("203.0.113.5")
        assert first.headers["X-Ustad-Worker"] == "worker-7"
        assert health("203.0.113.5").status_code == 200
        # The proxy (127.0.0.1, trusted by default) speaks for two clients with a rate each.
        refused = health("203.0.113.5")
        assert refused.status_code == 429
        assert refused.headers["X-Ustad-Worker"] == "worker-7"
        assert health("203.0.113.6").status_code == 200


def test_a_forwarded_for_from_an_untrusted_peer_is_ignored(tmp_path: Path) -> None:
    settings = make_settings(tmp_path).model_copy(
        update={
            "server": ServerSettings(forwarded_allow_ips=["192.0.2.1"]),
            "limits": LimitSettings(client_rate="2/minute"),
        }
    )
    app = create_app(settings, services_factory=fake_services_factory(Script()))
    with serve(app, settings) as address, httpx.Client(base_url=f"http://{address}") as client:
        # 127.0.0.1 is not the trusted proxy here: a spoofed client per request gains nothing.
        statuses = [
            client.get("/health", headers={"X-Forwarded-For": f"203.0.113.{n}"}).status_code
            for n in range(3)
        ]
    assert statuses == [200, 200, 429]
