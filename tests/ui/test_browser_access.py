"""Roles and secrets in a real browser against `appliance serve`.

A viewer gets no upload or delete controls, and crafted requests are refused. No secret
(the admin password, an API key once shown, a mailbox password once saved) is in the
page source or the websocket traffic afterwards; traffic is read from Chromium's
performance log (Network.webSocketFrameSent/Received)."""

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.services import open_services
from app.settings import Settings
from tests.conftest import ADMIN_PASSWORD, write_config
from tests.ui.browser import chromium, require_browser, screenshot, sign_in, wait_for, wait_until
from tests.ui.pdfs import make_pdf

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PASSWORD = "a perfectly long password"
MAILBOX_PASSWORD = "Mailbox-canary-5a1t-9931"


def _people(settings: Settings) -> None:
    """vera: viewer of demo; mallory: owner of a tenant of her own."""
    from app.auth.passwords import Passwords

    services = open_services(settings, None)
    try:
        hashed = Passwords(settings.security).hash(PASSWORD)
        vera = services.system.insert_user("vera", hashed, False)
        mallory = services.system.insert_user("mallory", hashed, False)
        services.system.set_membership(services.system.find_tenant("demo").id, vera.id, "viewer")
        other = services.tenants.create("other")
        services.system.set_membership(other.id, mallory.id, "owner")
    finally:
        services.close()


def _login(base: str, username: str, password: str) -> dict[str, str]:
    answer = httpx.post(
        f"{base}/api/v1/auth/login", json={"username": username, "password": password}
    )
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def _upload(base: str, headers: dict[str, str], tenant: str, pdf: Path) -> str:
    answer = httpx.post(
        f"{base}/api/v1/tenants/{tenant}/documents",
        headers=headers,
        files={"files": (pdf.name, pdf.read_bytes(), "application/pdf")},
    )
    assert answer.status_code == 202, answer.text
    return str(answer.json()["items"][0]["id"])


@pytest.fixture
def server(initialised: Settings, server_factory: Any, tmp_path: Path) -> Any:
    require_browser()
    _people(initialised)
    running = server_factory(initialised.data_dir, write_config(tmp_path / "c.toml", initialised))
    running.wait_ready()
    yield running
    assert running.stop() == 0


def test_a_viewer_has_no_upload_or_delete_and_crafted_requests_fail(
    server: Any, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    # GIVEN a document in demo and one in mallory's tenant
    admin = _login(server.base, "admin", ADMIN_PASSWORD)
    doc = _upload(server.base, admin, "demo", make_pdf(tmp_path / "a.pdf", 2, "Shared notes"))
    mallory = _login(server.base, "mallory", PASSWORD)
    secret_doc = _upload(server.base, mallory, "other", make_pdf(tmp_path / "b.pdf", 1, "Hers"))
    with chromium() as driver:
        # WHEN the viewer signs in and opens Documents and the document
        sign_in(driver, server.base, "vera", PASSWORD)
        wait_for(driver, "[data-testid=dashboard-title]")
        driver.get(f"{server.base}/documents")
        wait_for(driver, "[data-testid=documents-table]")
        # THEN there is no upload area
        assert driver.find_elements(By.CSS_SELECTOR, "[data-testid=upload]") == []
        screenshot(driver, "viewer-documents")
        driver.get(f"{server.base}/documents/{doc}")
        wait_for(driver, "[data-testid=download-original]")
        # AND no delete button
        assert driver.find_elements(By.CSS_SELECTOR, "[data-testid=delete-document]") == []
        screenshot(driver, "viewer-document")
        cookie = {c["name"]: c["value"] for c in driver.get_cookies()}["appliance_session"]
        client_id = re.search(r"'client_id': '([0-9a-f-]+)'", driver.page_source)
    jar = {"Cookie": f"appliance_session={cookie}"}
    # WHEN the viewer crafts requests instead
    # an upload to the page's client (no upload element exists to receive it)
    assert client_id is not None
    probe = httpx.post(
        f"{server.base}/_nicegui/client/{client_id.group(1)}/upload/1",
        headers=jar,
        files={"file": ("x.txt", b"crafted upload", "text/plain")},
    )
    assert probe.status_code in (404, 405)
    # the API with the session cookie (no CSRF token) and with her own token
    viewer = _login(server.base, "vera", PASSWORD)
    for headers in (jar, viewer):
        up = httpx.post(
            f"{server.base}/api/v1/tenants/demo/documents",
            headers=headers,
            json={"filename": "x.txt", "text": "crafted"},
        )
        gone = httpx.delete(f"{server.base}/api/v1/tenants/demo/documents/{doc}", headers=headers)
        assert up.status_code == 403 and gone.status_code == 403
    # the original of another tenant's document through the UI download route
    other = httpx.get(f"{server.base}/ui-files/other/documents/{secret_doc}/original", headers=jar)
    assert other.status_code == 404 and b"Hers" not in other.content
    # THEN the viewer's own download works, and nothing was added or removed
    own = httpx.get(f"{server.base}/ui-files/demo/documents/{doc}/original", headers=jar)
    assert own.status_code == 200 and own.content.startswith(b"%PDF")
    listed = httpx.get(f"{server.base}/api/v1/tenants/demo/documents", headers=admin).json()
    assert [d["id"] for d in listed["items"]] == [doc]


def _frames(entries: list[dict[str, Any]]) -> list[str]:
    """Payloads of websocket frames sent and received, from Chromium's performance log."""
    payloads = []
    for entry in entries:
        message = json.loads(entry["message"])["message"]
        if message["method"] in ("Network.webSocketFrameSent", "Network.webSocketFrameReceived"):
            payloads.append(str(message["params"]["response"].get("payloadData", "")))
    return payloads


def _type(driver: Any, testid: str, text: str) -> None:
    wait_for(driver, f"input[data-testid={testid}]").send_keys(text)


def test_no_secret_is_in_the_page_or_the_websocket_after_it_was_saved(server: Any) -> None:
    from selenium.webdriver.common.by import By

    with chromium(performance_log=True) as driver:
        # GIVEN the admin signed in (the password went over the websocket while typed)
        sign_in(driver, server.base, "admin", ADMIN_PASSWORD)
        wait_for(driver, "[data-testid=dashboard-title]")
        # WHEN an API key is created and shown once, then the dialog is closed
        driver.get(f"{server.base}/admin?tab=keys")
        _type(driver, "key-name", "export script")
        wait_for(driver, "[data-testid=create-key]").click()
        shown = wait_for(driver, "input[data-testid=new-api-key]")
        api_key = shown.get_attribute("value")
        assert api_key and api_key.startswith("aak_")
        wait_for(driver, "[data-testid=close-key]").click()
        wait_until(
            driver, lambda d: not d.find_elements(By.CSS_SELECTOR, "[data-testid=new-api-key]")
        )
        # AND a mailbox is saved with a password
        driver.get(f"{server.base}/connectors")
        wait_for(driver, "[data-testid=add-mailbox]").click()
        _type(driver, "mailbox-name", "Invoices")
        _type(driver, "mailbox-host", "mail.example.test")
        _type(driver, "mailbox-username", "invoices")
        _type(driver, "mailbox-password", MAILBOX_PASSWORD)
        wait_for(driver, "[data-testid=save-mailbox]").click()
        wait_until(
            driver, lambda d: "Invoices" in d.execute_script("return document.body.innerText")
        )
        # the capture works: every secret did cross the websocket up to here
        before = "\n".join(_frames(driver.get_log("performance")))
        for secret in (ADMIN_PASSWORD, api_key, MAILBOX_PASSWORD):
            assert secret in before
        # WHEN the user goes on through the pages, opening the mailbox edit form too
        sources = []
        for path in ("/connectors", "/admin?tab=keys", "/", "/documents", "/ask"):
            driver.get(server.base + path)
            wait_for(driver, "#main")
            if path == "/connectors":
                wait_for(driver, "[data-testid=edit-mailbox]").click()
                field = wait_for(driver, "input[data-testid=mailbox-password]")
                assert field.get_attribute("value") == ""
                screenshot(driver, "secrets-mailbox-edit")
            sources.append(driver.page_source)
        after = "\n".join(_frames(driver.get_log("performance")))
    # THEN no secret is in any page source or websocket frame afterwards
    for secret in (ADMIN_PASSWORD, api_key, MAILBOX_PASSWORD):
        assert secret not in after
        assert all(secret not in source for source in sources)
    assert after  # frames were captured after the save as well
