"""The main path in a real browser against a real `appliance serve`: sign in, upload a
real PDF, watch it reach `indexed`, ask about it, open the cited page. Every page is
also rendered at 1280x800 and at 400 px wide, with screenshots in tests/artifacts/."""

from pathlib import Path
from typing import Any

import httpx
import pytest

from app.settings import Settings
from tests.conftest import ADMIN_PASSWORD, write_config
from tests.ui.browser import (
    chromium,
    drop_file,
    require_browser,
    screenshot,
    sign_in,
    wait_for,
    wait_until,
)
from tests.ui.pdfs import make_pdf

pytestmark = [pytest.mark.browser, pytest.mark.slow]

INDEXED_TIMEOUT_S = 180
PAGES = (
    "/",
    "/documents",
    "/ask",
    "/connectors",
    "/workflows",
    "/workflows/edit",
    "/runs",
    "/reports",
    "/senders",
    "/outbox",
    "/monitoring",
    "/logs",
    "/admin",
)


_ROWS_JS = """
return [...document.querySelectorAll('[data-testid=documents-table] tbody tr')].map(
    r => [r.innerText, (r.querySelector('.q-badge') || {}).innerText || ''])
"""


def _state_in_table(driver: Any, title: str) -> str | None:
    """The state badge of the row showing `title` (read in one go: rows are redrawn live)."""
    for text, state in driver.execute_script(_ROWS_JS):
        if title in text:
            return str(state).strip()
    return None


def test_sign_in_upload_indexed_ask_and_open_the_citation(
    initialised: Settings, server_factory: Any, tmp_path: Path
) -> None:
    require_browser()
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    # GIVEN a running appliance and a 5-page PDF whose page 4 alone names cabinet 12
    server = server_factory(initialised.data_dir, write_config(tmp_path / "c.toml", initialised))
    server.wait_ready()
    pdf = make_pdf(tmp_path / "harbour-notes.pdf", 5, "Harbour notes")
    with chromium() as driver:
        # WHEN the admin signs in
        sign_in(driver, server.base, "admin", ADMIN_PASSWORD)
        wait_for(driver, "[data-testid=dashboard-title]")
        screenshot(driver, "main-01-dashboard")
        # AND drops the PDF on the upload area of the Documents page
        driver.get(f"{server.base}/documents")
        wait_for(driver, "[data-testid=upload]")
        drop_file(driver, pdf)
        wait_for(driver, "[data-testid=upload-result]")
        screenshot(driver, "main-02-uploaded")
        # THEN the table shows it moving on until it is indexed, without a reload
        states: list[str] = []

        def indexed(d: Any) -> bool:
            state = _state_in_table(d, "Harbour notes") or _state_in_table(d, pdf.name)
            if state and (not states or states[-1] != state):
                states.append(state)
            return state in ("indexed", "failed", "unsupported")

        try:
            wait_until(driver, indexed, INDEXED_TIMEOUT_S)
        except Exception as exc:
            screenshot(driver, "main-03-not-indexed")
            raise AssertionError(f"no final state in time; states seen: {states}") from exc
        screenshot(driver, "main-03-indexed")
        assert states[-1] == "indexed", f"states seen: {states} (indexing not wired yet?)"
        # WHEN a question about page 4 is asked
        driver.get(f"{server.base}/ask")
        box = wait_for(driver, "input[data-testid=question]")
        box.send_keys("Where are the replacement filters for the Tamsin-9 pump stored?", Keys.ENTER)
        # THEN the answer streams in and cites the document as a chip
        chip = wait_for(driver, "[data-testid=citation]", timeout=300)
        answer = driver.find_element(By.CSS_SELECTOR, "[data-testid=answer]").text
        assert answer.strip()
        screenshot(driver, "main-04-answer")
        # WHEN the chip is clicked THEN the document opens at the cited page
        chip.click()
        wait_for(driver, "[data-testid=document-title]")
        label = wait_for(driver, "[data-testid=page-label]").text
        assert label.startswith("Page 4 "), label
        assert "cabinet 12" in driver.find_element(By.CSS_SELECTOR, "[data-testid=page-text]").text
        # AND the cited passage is marked on it
        assert driver.find_elements(By.CSS_SELECTOR, "[data-testid=cited-passage]")
        screenshot(driver, "main-05-cited-page")
    assert server.stop() == 0


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (400, 800)])
def test_every_page_renders_without_errors_at_desktop_and_narrow_width(
    initialised: Settings, server_factory: Any, tmp_path: Path, width: int, height: int
) -> None:
    require_browser()
    from selenium.webdriver.common.by import By

    # GIVEN a running appliance with one document
    server = server_factory(initialised.data_dir, write_config(tmp_path / "c.toml", initialised))
    server.wait_ready()
    token = httpx.post(
        f"{server.base}/api/v1/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}
    ).json()["access_token"]
    pdf = make_pdf(tmp_path / "notes.pdf", 3, "Field notes")
    created = httpx.post(
        f"{server.base}/api/v1/tenants/demo/documents",
        headers={"Authorization": f"Bearer {token}"},
        files={"files": (pdf.name, pdf.read_bytes(), "application/pdf")},
    )
    document_id = created.json()["items"][0]["id"]
    with chromium(width, height) as driver:
        sign_in(driver, server.base, "admin", ADMIN_PASSWORD)
        wait_for(driver, "[data-testid=dashboard-title]")
        # WHEN every page is opened (and the document's own page)
        for path in (*PAGES, f"/documents/{document_id}"):
            driver.get(server.base + path)
            wait_for(driver, "#main")
            wait_until(
                driver, lambda d: d.execute_script("return document.readyState") == "complete"
            )
            name = "document" if path.endswith(document_id) else path.strip("/") or "dashboard"
            name = name.replace("/", "-")
            screenshot(driver, f"page-{name}-{width}")
            # THEN nothing overflows sideways and the browser logged no errors
            overflow = driver.execute_script(
                "return document.documentElement.scrollWidth - window.innerWidth"
            )
            assert overflow <= 1, f"{path} is {overflow}px too wide at {width}px"
            errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
            assert errors == [], f"{path}: {errors}"
        # AND the drawer is reachable with the keyboard-usable menu button on narrow screens
        menu = driver.find_element(By.CSS_SELECTOR, "[aria-label=Menu]")
        assert menu.is_displayed()
    assert server.stop() == 0
