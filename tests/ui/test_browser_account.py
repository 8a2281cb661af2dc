"""Accounts, the live audit log and the 404 page in headless Chromium against a real
`appliance serve` (one server and one browser for the session, see tests/ui/served.py)."""

from typing import Any

import httpx
import pytest

from tests.conftest import ADMIN_PASSWORD
from tests.ui.browser import screenshot, wait_for, wait_until
from tests.ui.served import PASSWORD, Served, browser, served, shared_chromium, signed_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]
__all__ = ["browser", "served", "shared_chromium"]  # fixtures used by name below


def _type(driver: Any, testid: str, text: str) -> None:
    from selenium.webdriver.common.by import By

    driver.find_element(
        By.CSS_SELECTOR, f"[data-testid={testid}] input, input[data-testid={testid}]"
    ).send_keys(text)


def test_a_user_changes_their_own_password_and_signs_in_with_the_new_one(
    browser: Any, served: Served
) -> None:
    # GIVEN vera, signed in in the browser and holding an API token
    old_token = served.headers("vera")
    signed_in(browser, served, "vera")
    # WHEN she opens Change password from the account menu and changes it
    wait_for(browser, "[data-testid=account-menu]").click()
    wait_for(browser, "[data-testid=change-password]").click()
    wait_for(browser, "[data-testid=account-title]")
    _type(browser, "password-current", PASSWORD)
    _type(browser, "password-new", "vera's brand new password")
    _type(browser, "password-repeat", "vera's brand new password")
    screenshot(browser, "account-change-password")
    wait_for(browser, "[data-testid=password-submit]").click()
    # THEN she is back at sign-in with a notice, and her old API token no longer works
    notice = wait_for(browser, "[data-testid=sign-in-notice]")
    assert "password was changed" in notice.text
    answer = httpx.get(f"{served.base}/api/v1/tenants", headers=old_token)
    assert answer.status_code == 401
    # AND the new password signs her in
    signed_in(browser, served, "vera", "vera's brand new password")


def test_an_admin_resets_a_users_password_from_the_users_tab(browser: Any, served: Served) -> None:
    from selenium.webdriver.common.by import By

    # GIVEN eddie with a valid API token
    eddie = served.headers("eddie")
    signed_in(browser, served, "admin", ADMIN_PASSWORD)
    # WHEN the admin resets eddie's password on Admin → Users
    browser.get(f"{served.base}/admin?tab=users")
    wait_for(browser, "[data-testid=user-actions-eddie]").click()
    wait_for(browser, "[data-testid=reset-password-eddie]").click()
    field = wait_for(
        browser, "[data-testid=reset-password-value] input, input[data-testid=reset-password-value]"
    )
    field.send_keys("eddie's reset password")
    browser.find_element(By.CSS_SELECTOR, "[data-testid=reset-password-save]").click()
    wait_until(
        browser,
        lambda d: "Password of eddie changed" in d.find_element(By.TAG_NAME, "body").text,
        message="no confirmation of the reset",
    )
    screenshot(browser, "admin-reset-password")
    # THEN eddie's token is revoked and only the new password works
    assert httpx.get(f"{served.base}/api/v1/tenants", headers=eddie).status_code == 401
    assert served.token("eddie", "eddie's reset password")


def test_the_audit_view_shows_new_events_without_a_reload(browser: Any, served: Served) -> None:
    from selenium.webdriver.common.by import By

    # GIVEN the admin looking at the audit log
    signed_in(browser, served, "admin", ADMIN_PASSWORD)
    browser.get(f"{served.base}/admin?tab=audit")
    wait_for(browser, "[data-testid=audit-table]")
    browser.execute_script("window.__same_page = true")
    # WHEN an owner makes olga a viewer through the API meanwhile
    answer = httpx.post(
        f"{served.base}/api/v1/tenants/demo/members",
        headers=served.headers("admin", ADMIN_PASSWORD),
        json={"username": "olga", "role": "viewer"},
    )
    assert answer.status_code in (200, 201), answer.text

    def shown(d: Any) -> bool:
        table = d.find_element(By.CSS_SELECTOR, "[data-testid=audit-table]").text
        return "previous: owner · role: viewer" in table

    # THEN the entry appears in words on the same page (no reload happened)
    wait_until(browser, shown, timeout=20, message="the audit table did not update by itself")
    assert browser.execute_script("return window.__same_page === true")
    assert "{" not in browser.find_element(By.CSS_SELECTOR, "[data-testid=audit-table]").text
    screenshot(browser, "admin-audit-live")


def test_an_unknown_address_shows_a_friendly_page_that_links_home(
    browser: Any, served: Served
) -> None:
    signed_in(browser, served, "admin", ADMIN_PASSWORD)
    # WHEN a mistyped address is opened
    browser.get(f"{served.base}/documets")
    # THEN the app's own page says so, inside the usual frame, with a link home
    wait_for(browser, "[data-testid=not-found]")
    assert "This page does not exist" in browser.page_source
    assert "HTTPException" not in browser.page_source
    screenshot(browser, "not-found")
    wait_for(browser, "[data-testid=not-found-home]").click()
    wait_for(browser, "[data-testid=dashboard-title]")
    # AND the API's unknown addresses still answer JSON
    answer = httpx.get(f"{served.base}/api/v1/no-such-route")
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("application/json")
