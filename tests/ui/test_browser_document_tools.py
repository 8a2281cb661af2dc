"""Search by meaning, the mailbox Test before saving and Summarize on a document's page,
in headless Chromium against one real `appliance serve` (shared by the module), with a
real Dovecot on 127.0.0.1 for the mailbox and the packaged models for the rest."""

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.initialise import initialise
from tests.agents.dovecot import DovecotServer, running_dovecot
from tests.conftest import ADMIN_PASSWORD, RunningServer, make_settings, write_config
from tests.ui.browser import (
    chromium,
    click_settled,
    drop_file,
    require_browser,
    screenshot,
    sign_in,
    wait_for,
    wait_until,
)
from tests.ui.pdfs import make_pdf

pytestmark = [pytest.mark.browser, pytest.mark.slow]

INDEXED_TIMEOUT_S = 300
MODEL_TIMEOUT_S = 600
TEXTS = {
    "pump-maintenance.txt": (
        "Pump maintenance. Replacement filters for the Tamsin-9 pump are stored in cabinet 12 "
        "of the east hall. Change the filters every spring before the irrigation season."
    ),
    "bakery-notes.txt": (
        "Bakery notes. The Quillon bakery uses a rye sourdough starter that is more than "
        "ninety years old; loaves rise overnight in the cold room."
    ),
    "ferry-timetable.txt": (
        "Ferry timetable. Route 6 from Hollin Quay is suspended whenever the swell exceeds "
        "four metres; the harbour master posts notices at the quay."
    ),
}


class Appliance:
    """The module's server, its admin token and the ids of the indexed documents."""

    def __init__(self, server: RunningServer) -> None:
        self.server = server
        self.base = server.base
        answer = httpx.post(
            f"{self.base}/api/v1/auth/login",
            json={"username": "admin", "password": ADMIN_PASSWORD},
        )
        self.headers = {"Authorization": f"Bearer {answer.json()['access_token']}"}
        self.ids: dict[str, str] = {}

    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return httpx.request(
            method,
            f"{self.base}/api/v1/tenants/demo{path}",
            headers=self.headers,
            timeout=60,
            **kwargs,
        )

    def add_texts(self, pdf: Path) -> None:
        for name, text in TEXTS.items():
            answer = self.api("POST", "/documents", json={"filename": name, "text": text})
            assert answer.status_code == 202, answer.text
            self.ids[name] = answer.json()["items"][0]["id"]
        # a PDF too: its details carry the PDF's own dates
        files = {"files": (pdf.name, pdf.read_bytes(), "application/pdf")}
        answer = self.api("POST", "/documents", files=files)
        self.ids[pdf.name] = answer.json()["items"][0]["id"]
        deadline = time.monotonic() + INDEXED_TIMEOUT_S
        while time.monotonic() < deadline:
            states = {self.api("GET", f"/documents/{i}").json()["state"] for i in self.ids.values()}
            if states == {"indexed"}:
                return
            assert not states & {"failed", "unsupported"}, states
            time.sleep(0.5)
        raise AssertionError(f"not indexed in time: {states}")


@pytest.fixture(scope="module")
def appliance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Appliance]:
    require_browser()
    root = tmp_path_factory.mktemp("tools")
    settings = make_settings(root / "data")
    initialise(settings, "admin", ADMIN_PASSWORD, demo=True, passphrase=None)
    server = RunningServer(settings.data_dir, write_config(root / "c.toml", settings))
    try:
        server.wait_ready()
        built = Appliance(server)
        built.add_texts(make_pdf(root / "lighthouse.pdf", 1, "Lighthouse log"))
        yield built
        assert server.stop() == 0
    finally:
        server.kill()


@pytest.fixture(scope="module")
def dovecot() -> Iterator[DovecotServer]:
    yield from running_dovecot()


@pytest.fixture(scope="module")
def driver(appliance: Appliance) -> Iterator[Any]:
    with chromium() as browser:
        sign_in(browser, appliance.base, "admin", ADMIN_PASSWORD)
        wait_for(browser, "[data-testid=dashboard-title]")
        yield browser


def _type(driver: Any, testid: str, text: str) -> None:
    """Replace a field's text as a user would (select all, type over it): Selenium's
    clear() does not reach Vue's model."""
    from selenium.webdriver.common.keys import Keys

    field = wait_for(driver, f"input[data-testid={testid}]")
    field.send_keys(Keys.CONTROL, "a")
    field.send_keys(Keys.BACKSPACE)
    field.send_keys(text)


def _scores(driver: Any) -> list[int]:
    texts = driver.execute_script(
        "return [...document.querySelectorAll('[data-testid=meaning-score]')].map(e => e.innerText)"
    )
    return [int(re.search(r"(\d+)%", t).group(1)) for t in texts]  # type: ignore[union-attr]


def test_a_title_search_that_finds_nothing_leads_to_ranked_results_with_snippets(
    appliance: Appliance, driver: Any
) -> None:
    from selenium.webdriver.common.by import By

    # GIVEN three indexed documents, none with "filters" in its title
    driver.get(f"{appliance.base}/documents")
    wait_for(driver, "[data-testid=documents-table]")
    # WHEN the user searches titles for what the pump document is about
    _type(driver, "search", "where are the spare pump filters kept")
    # THEN the page says no title matches and offers to search by meaning
    offer = wait_for(driver, "[data-testid=try-meaning]")
    screenshot(driver, "tools-title-search-hint-1280")
    # WHEN that one button is clicked
    offer.click()
    # THEN the documents are listed best match first, each with the passage and its score
    wait_for(driver, "[data-testid=meaning-result]")
    wait_until(driver, lambda d: len(_scores(d)) >= 2, message="fewer than two results")
    titles = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "[data-testid=meaning-title]")]
    snippets = [
        e.text for e in driver.find_elements(By.CSS_SELECTOR, "[data-testid=meaning-snippet]")
    ]
    scores = _scores(driver)
    assert titles[0] == "pump-maintenance.txt", titles
    assert "cabinet 12" in snippets[0]
    assert scores == sorted(scores, reverse=True), scores
    # AND the table, which would sort by date, is not what shows them
    table = driver.find_elements(By.CSS_SELECTOR, "[data-testid=documents-table]")
    assert not table or not table[0].is_displayed()
    screenshot(driver, "tools-meaning-results-1280")


def test_mailbox_settings_are_tested_before_saving_and_bad_fields_all_marked(
    appliance: Appliance, driver: Any, dovecot: DovecotServer
) -> None:
    from selenium.webdriver.common.by import By

    account = dovecot.mailbox()
    driver.get(f"{appliance.base}/connectors")
    wait_for(driver, "[data-testid=add-mailbox]").click()
    wait_for(driver, "[data-testid=mailbox-form]")
    # GIVEN the new-mailbox form: the port already holds IMAP over TLS's standard port
    assert wait_for(driver, "input[data-testid=mailbox-port]").get_attribute("value") == "993"
    # WHEN Save is pressed with nothing filled in
    wait_for(driver, "[data-testid=save-mailbox]").click()
    # THEN every missing field is marked at once, and the Save button stays uncovered
    wait_for(driver, "[data-testid=mailbox-problems]")
    marked = driver.find_elements(By.CSS_SELECTOR, "[data-testid=mailbox-form] .q-field--error")
    assert len(marked) == 4, [m.text for m in marked]  # name, server, account, password
    save = driver.find_element(By.CSS_SELECTOR, "[data-testid=save-mailbox]")
    on_top = driver.execute_script(
        "arguments[0].scrollIntoView({block: 'center'});"
        "const r = arguments[0].getBoundingClientRect();"
        "const e = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);"
        "return arguments[0].contains(e);",
        save,
    )
    assert on_top, "something covers the Save button"
    screenshot(driver, "tools-mailbox-problems-1280")
    # WHEN the Dovecot account is entered, without encryption (this machine only)
    _type(driver, "mailbox-name", "Scans")
    _type(driver, "mailbox-host", "127.0.0.1")
    wait_for(driver, "[data-testid=mailbox-security]").click()
    wait_for(driver, ".q-menu .q-item")
    option = driver.find_element(
        By.XPATH, "//div[contains(@class,'q-menu')]//*[text()='none (this machine only)']"
    )
    option.click()
    wait_until(
        driver,
        lambda d: (
            d.find_element(By.CSS_SELECTOR, "input[data-testid=mailbox-port]").get_attribute(
                "value"
            )
            == "143"
        ),
        message="the port did not follow the encryption",
    )
    _type(driver, "mailbox-port", str(dovecot.imap))
    _type(driver, "mailbox-username", account.user)
    _type(driver, "mailbox-password", "not-the-password")
    # AND Test is pressed with a wrong password
    wait_for(driver, "[data-testid=test-unsaved-mailbox]").click()
    failed = wait_for(driver, "[data-testid=mailbox-test-result][data-ok=false]", timeout=60)
    assert "Connection failed" in failed.text
    # WHEN the right password is tested
    _type(driver, "mailbox-password", account.password)
    wait_for(driver, "[data-testid=test-unsaved-mailbox]").click()
    works = wait_for(driver, "[data-testid=mailbox-test-result][data-ok=true]", timeout=60)
    assert "Connection works" in works.text
    screenshot(driver, "tools-mailbox-test-works-1280")
    # THEN no notice is left saying it is connecting, and nothing was saved by the tests
    notices = driver.execute_script("return document.body.innerText")
    assert "Connecting" not in notices
    assert appliance.api("GET", "/connectors").json()["items"] == []
    # WHEN it is saved THEN it is stored once
    wait_for(driver, "[data-testid=save-mailbox]").click()
    wait_for(driver, "[data-testid=test-mailbox]")
    assert [c["name"] for c in appliance.api("GET", "/connectors").json()["items"]] == ["Scans"]


def test_a_document_is_summarized_from_its_page(appliance: Appliance, driver: Any) -> None:
    # GIVEN the page of an indexed document
    document_id = appliance.ids["pump-maintenance.txt"]
    driver.get(f"{appliance.base}/documents/{document_id}")
    wait_for(driver, "[data-testid=document-tools]")
    # WHEN Summarize is pressed
    wait_for(driver, "[data-testid=summarize]").click()
    # THEN the user sees that the model works, then the summary
    wait_for(driver, "[data-testid=tool-busy]", timeout=30)
    summary = wait_for(driver, "[data-testid=summary]", timeout=MODEL_TIMEOUT_S)
    assert len(summary.text.split()) >= 3, summary.text
    screenshot(driver, "tools-summary-1280")


def test_a_long_pdf_shows_signs_of_life_while_it_is_read_and_indexed(
    appliance: Appliance, driver: Any, tmp_path: Path
) -> None:

    # GIVEN a 36-page PDF
    pdf = make_pdf(tmp_path / "long-report.pdf", 36, "Long report")
    driver.get(f"{appliance.base}/documents")
    wait_for(driver, "[data-testid=documents-table]")

    # WHEN it is dropped on the upload area
    drop_file(driver, pdf)
    # THEN its line says in words that it was added and is being read
    line = wait_for(driver, "[data-testid=upload-result]").text
    assert "added" in line and "%" not in line and "0.0B" not in line, line
    # AND until it is indexed its row says what is happening; the time spent ticks on
    seen: list[str] = []

    def progress_or_done(d: Any) -> bool:
        # read in one go: the rows are redrawn while the document moves on
        texts = d.execute_script(
            "return [...document.querySelectorAll('[data-testid=doc-progress]')]"
            ".map(e => e.innerText)"
        )
        seen.extend(t for t in texts if t and (not seen or seen[-1] != t))
        return not texts and bool(seen)

    wait_until(driver, progress_or_done, timeout=INDEXED_TIMEOUT_S, message="no progress shown")
    screenshot(driver, "tools-long-pdf-done-1280")
    timed = [t for t in seen if re.search(r"· \d+ s", t)]
    assert len(set(timed)) >= 2 or len(set(seen)) >= 2, seen


CHANGED_PAGES = (
    "/",
    "/documents",
    "/documents/{doc}",
    "/documents/{pdf}",
    "/connectors",
    "/ask?docs={doc}",
)


@pytest.mark.parametrize("width", [1280, 400])
def test_the_changed_pages_fit_the_window_at_desktop_and_narrow_width(
    appliance: Appliance, width: int
) -> None:

    document_id = appliance.ids["pump-maintenance.txt"]
    pdf_id = appliance.ids["lighthouse.pdf"]
    with chromium(width, 800) as driver:
        sign_in(driver, appliance.base, "admin", ADMIN_PASSWORD)
        wait_for(driver, "[data-testid=dashboard-title]")
        for path in CHANGED_PAGES:
            # WHEN each page this work changed is opened
            driver.get(appliance.base + path.format(doc=document_id, pdf=pdf_id))
            wait_for(driver, "#main")
            wait_until(
                driver, lambda d: d.execute_script("return document.readyState") == "complete"
            )
            time.sleep(0.5)  # let the websocket draw the page
            name = path.split("?")[0].replace("{doc}", "text").replace("{pdf}", "pdf")
            name = name.strip("/").replace("/", "-")
            screenshot(driver, f"tools-page-{name or 'dashboard'}-{width}")
            # THEN nothing overflows sideways
            overflow = driver.execute_script(
                "return document.documentElement.scrollWidth - window.innerWidth"
            )
            assert overflow <= 1, f"{path} is {overflow}px too wide at {width}px"
            errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
            assert errors == [], f"{path}: {errors}"
        # AND the PDF's dates read as dates, with no count of tries after a clean arrival
        driver.get(f"{appliance.base}/documents/{pdf_id}")
        details = wait_for(driver, "[data-testid=metadata]").text
        assert "D:" not in details and "Created" in details and "Attempts" not in details
        # AND on a narrow window the documents are cards, each with a selection box
        if width < 600:
            driver.get(f"{appliance.base}/documents")
            wait_for(driver, "[data-testid=doc-card]")
            click_settled(driver, "[data-testid=doc-card] .q-checkbox")
            wait_for(driver, "[data-testid=selection-bar]")
            screenshot(driver, f"tools-page-documents-selected-{width}")
