"""The web UI behind the same gate: Host check and security headers on a real server, and
the CSP proven not to break the sign-in page in a real browser."""

from pathlib import Path

import httpx
import pytest

from app.api.headers import UI_CSP
from app.settings import Settings
from tests.conftest import ADMIN_PASSWORD, write_config
from tests.ui.browser import chromium, require_browser, wait_for

pytestmark = pytest.mark.slow


def test_ui_pages_carry_security_headers_and_check_the_host(
    initialised: Settings, server_factory, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    # GIVEN a running appliance
    server = server_factory(initialised.data_dir, write_config(tmp_path / "c.toml", initialised))
    server.wait_ready()
    # WHEN the sign-in page is fetched
    page = httpx.get(f"{server.base}/login")
    # THEN it has the UI policy: nothing from other origins, no framing
    assert page.status_code == 200
    assert page.headers["content-security-policy"] == UI_CSP
    assert "frame-ancestors 'none'" in UI_CSP and "default-src 'self'" in UI_CSP
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["x-frame-options"] == "DENY"
    # AND the API keeps its stricter policy on the same port
    api = httpx.get(f"{server.base}/api/v1/health/live")
    assert api.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
    # AND a foreign Host header is refused for UI pages too
    rebound = httpx.get(f"{server.base}/login", headers={"Host": "evil.example"})
    assert rebound.status_code == 400 and rebound.json()["code"] == "invalid_host"
    assert server.stop() == 0


@pytest.mark.browser
def test_sign_in_page_works_under_the_csp_in_a_real_browser(
    initialised: Settings, server_factory, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By

    require_browser()
    # GIVEN a running appliance and headless Chromium that records console messages
    server = server_factory(initialised.data_dir, write_config(tmp_path / "c.toml", initialised))
    server.wait_ready()
    with chromium() as driver:
        # WHEN the admin signs in through the page
        driver.get(f"{server.base}/login")
        wait_for(driver, "input[type=password]")
        fields = driver.find_elements(By.CSS_SELECTOR, "input")
        fields[0].send_keys("admin")
        fields[1].send_keys(ADMIN_PASSWORD)
        driver.find_element(By.CSS_SELECTOR, "[data-testid=sign-in]").click()
        wait_for(driver, "[data-testid=dashboard-title]")
        # THEN the dashboard renders and the browser reported no CSP violation
        violations = [
            entry["message"]
            for entry in driver.get_log("browser")
            if "Content Security Policy" in entry["message"]
        ]
        assert violations == []
        # AND the session cookie is HttpOnly and SameSite=Strict
        cookie = next(c for c in driver.get_cookies() if c["name"] == "appliance_session")
        assert cookie["httpOnly"] is True and cookie["sameSite"] == "Strict"
    assert server.stop() == 0
