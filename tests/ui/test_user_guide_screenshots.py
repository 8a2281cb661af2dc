"""Every page in headless Chromium, photographed for the user guide.

With UPDATE_SCREENSHOTS=1 the 1280x800 pictures are written into docs/user-guide/
(committed, referenced by docs/user-guide.md); otherwise into a temporary folder, so a
normal run leaves the tree clean. The same pages at 400 px go to tests/artifacts/ for
review. PNGs are reduced to 256 colours to keep the repository small. Every page must
render without a browser error and without sideways scrolling at either width.
"""

import io
import os
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import ADMIN_PASSWORD
from tests.ui.browser import ARTIFACTS, wait_for, wait_until
from tests.ui.pdfs import make_pdf
from tests.ui.served import Served, browser, served, shared_chromium, signed_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]
__all__ = ["browser", "served", "shared_chromium"]  # fixtures used by name below

GUIDE_IMAGES = Path(__file__).resolve().parents[2] / "docs" / "user-guide"
INDEXED_TIMEOUT_S = 240

# (file name, address); "{doc}" is the example document's id
TOUR = (
    ("02-dashboard", "/"),
    ("03-documents", "/documents"),
    ("04-document", "/documents/{doc}"),
    ("05-ask", "/ask"),
    ("06-mailboxes", "/connectors"),
    ("07-workflows", "/workflows"),
    ("08-runs", "/runs"),
    ("09-reports", "/reports"),
    ("10-senders", "/senders"),
    ("11-outbox", "/outbox"),
    ("12-monitoring", "/monitoring"),
    ("13-logs", "/logs"),
    ("14-admin-workspaces", "/admin?tab=tenants"),
    ("15-admin-users", "/admin?tab=users"),
    ("16-admin-members", "/admin?tab=members"),
    ("17-admin-api-keys", "/admin?tab=keys"),
    ("18-admin-audit", "/admin?tab=audit"),
    ("19-settings", "/settings"),
    ("20-help", "/help"),
    ("20-user-guide", "/help/guide"),
    ("21-account", "/account"),
    ("22-not-found", "/no-such-page"),
)


def _target(tmp_path: Path) -> Path:
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        GUIDE_IMAGES.mkdir(parents=True, exist_ok=True)
        return GUIDE_IMAGES
    return tmp_path


def _save(driver: Any, path: Path) -> None:
    from PIL import Image

    image = Image.open(io.BytesIO(driver.get_screenshot_as_png())).convert("RGB")
    image.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)


def _size(driver: Any, width: int, height: int) -> None:
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600},
    )


def _example_document(served: Served, tmp_path: Path) -> str:
    headers = served.headers("admin", ADMIN_PASSWORD)
    pdf = make_pdf(tmp_path / "harbour-notes.pdf", 3, "Harbour notes")
    created = httpx.post(
        f"{served.base}/api/v1/tenants/demo/documents",
        headers=headers,
        files={"files": (pdf.name, pdf.read_bytes(), "application/pdf")},
    )
    assert created.status_code == 202, created.text
    document_id = str(created.json()["items"][0]["id"])
    deadline = time.monotonic() + INDEXED_TIMEOUT_S
    while time.monotonic() < deadline:
        state = httpx.get(
            f"{served.base}/api/v1/tenants/demo/documents/{document_id}", headers=headers
        ).json()["state"]
        if state in ("indexed", "failed", "unsupported"):
            break
        time.sleep(1)
    assert state == "indexed", state
    return document_id


def _open(driver: Any, url: str) -> None:
    driver.get(url)
    wait_for(driver, "#main, [data-testid=not-found]")
    wait_until(driver, lambda d: d.execute_script("return document.readyState") == "complete")
    time.sleep(0.6)  # charts and tables draw after the page is ready


def test_every_page_photographed_for_the_user_guide(
    browser: Any, served: Served, tmp_path: Path
) -> None:
    target = _target(tmp_path)
    # GIVEN an appliance with one indexed document
    document_id = _example_document(served, tmp_path)
    # WHEN the sign-in page and then every page is opened by an admin
    _size(browser, 1280, 800)
    _open_login = f"{served.base}/login"
    browser.get(_open_login)
    wait_for(browser, "input[type=password]")
    _save(browser, target / "01-sign-in.png")
    signed_in(browser, served, "admin", ADMIN_PASSWORD)
    for width in (1280, 400):
        _size(browser, width, 800)
        for name, path in TOUR:
            _open(browser, served.base + path.format(doc=document_id))
            if width == 1280:
                _save(browser, target / f"{name}.png")
            else:
                ARTIFACTS.mkdir(parents=True, exist_ok=True)
                _save(browser, ARTIFACTS / f"guide-{name}-400.png")
            # THEN nothing pushes the page sideways and the browser logged no error
            overflow = browser.execute_script(
                "return document.documentElement.scrollWidth - window.innerWidth"
            )
            assert overflow <= 1, f"{path} is {overflow}px too wide at {width}px"
            errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
            errors = [e for e in errors if "404" not in e["message"]]  # the 404 page itself
            assert errors == [], f"{path}: {errors}"
    _size(browser, 1280, 800)
    # AND every picture is small enough to keep in the repository
    for picture in target.glob("*.png"):
        assert picture.stat().st_size < 250_000, picture.name
