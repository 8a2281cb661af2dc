"""One real `appliance serve` and one headless Chromium shared by a test session.

For the browser tests of the account, people and audit pages and for the user-guide
screenshots: starting a server and a browser costs seconds on a small machine, so they
are made once and each test signs in afresh (cookies are cleared between tests). Import
the fixtures into a test module with `from tests.ui.served import served, browser`.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from app.auth.passwords import Passwords
from app.initialise import initialise
from app.services import open_services
from tests.conftest import ADMIN_PASSWORD, RunningServer, make_settings, write_config
from tests.ui.browser import chromium, require_browser, sign_in, wait_for

PASSWORD = "a perfectly long password"


@dataclass
class Served:
    server: RunningServer
    base: str

    def token(self, username: str, password: str = PASSWORD) -> str:
        answer = httpx.post(
            f"{self.base}/api/v1/auth/login", json={"username": username, "password": password}
        )
        assert answer.status_code == 200, answer.text
        return str(answer.json()["access_token"])

    def headers(self, username: str, password: str = PASSWORD) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(username, password)}"}


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """admin (owner of demo), olga (owner), eddie (editor), vera (viewer) of demo."""
    root = tmp_path_factory.mktemp("served")
    settings = make_settings(root / "data")
    initialise(settings, "admin", ADMIN_PASSWORD, demo=True, passphrase=None)
    services = open_services(settings, None)
    try:
        hashed = Passwords(settings.security).hash(PASSWORD)
        demo = services.system.find_tenant("demo")
        for name, role in (("olga", "owner"), ("eddie", "editor"), ("vera", "viewer")):
            user = services.system.insert_user(name, hashed, False)
            services.system.set_membership(demo.id, user.id, role)
    finally:
        services.close()
    server = RunningServer(settings.data_dir, write_config(root / "c.toml", settings))
    server.wait_ready()
    yield Served(server, server.base)
    server.kill()


@pytest.fixture(scope="session")
def shared_chromium() -> Iterator[Any]:
    require_browser()
    with chromium() as driver:
        yield driver


@pytest.fixture
def browser(shared_chromium: Any, served: Served) -> Any:
    """The shared browser, signed out (no cookies) and back on a blank page."""
    shared_chromium.get(served.base + "/login")
    shared_chromium.delete_all_cookies()
    shared_chromium.get("about:blank")
    return shared_chromium


def signed_in(driver: Any, served: Served, username: str, password: str = PASSWORD) -> None:
    sign_in(driver, served.base, username, password)
    wait_for(driver, "[data-testid=dashboard-title]")
