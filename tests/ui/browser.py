"""Headless Debian Chromium for the UI tests and `appliance bench ui`-like checks.

Never downloads a browser: it uses /usr/bin/chromium and /usr/bin/chromedriver (Debian
packages `chromium` and `chromium-driver`). Without them the browser tests skip, except
in CI (CI=true), where a missing browser is a failure.
"""

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


def require_browser() -> None:
    """Skip (or fail in CI) when Debian's chromium or chromium-driver is missing."""
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not Path(p).exists()]
    if not missing:
        return
    message = f"needs Debian chromium and chromium-driver; missing: {', '.join(missing)}"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@contextmanager
def chromium(width: int = 1280, height: int = 800, performance_log: bool = False) -> Iterator[Any]:
    """A fresh headless Chromium (own profile dir) driven by Selenium."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    profile = tempfile.mkdtemp(prefix="appliance-chromium-")
    for flag in (*FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}"):
        options.add_argument(flag)
    options.binary_location = CHROMIUM
    if performance_log:
        options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    else:
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        # the page gets exactly width x height CSS pixels, whatever the window decorations
        driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600},
        )
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def wait_for(driver: Any, css: str, timeout: float = 30) -> Any:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(
        expected_conditions.visibility_of_element_located((By.CSS_SELECTOR, css))
    )


def wait_until(driver: Any, condition: Any, timeout: float = 30, message: str = "") -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.1).until(condition, message)


def sign_in(driver: Any, base: str, username: str, password: str) -> None:
    """Fill in the sign-in form and submit it with Enter (keyboard path)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    driver.get(f"{base}/login")
    wait_for(driver, "input[type=password]")
    fields = driver.find_elements(By.CSS_SELECTOR, "input")
    fields[0].send_keys(username)
    fields[1].send_keys(password, Keys.ENTER)


def screenshot(driver: Any, name: str) -> Path:
    """Save a PNG of the current page to tests/artifacts/ (git-ignored)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    driver.save_screenshot(str(path))
    return path


def drop_file(driver: Any, path: Path, timeout: float = 30) -> None:
    """Hand `path` to the upload area's file input.

    Vue may still be mounting the page when the input is first found; a stale reference
    means the keys never reached it, so trying again cannot upload the file twice.
    """
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By

    def dropped(d: Any) -> bool:
        try:
            d.find_element(By.CSS_SELECTOR, "[data-testid=upload] input[type=file]").send_keys(
                str(path)
            )
        except StaleElementReferenceException:
            return False
        return True

    wait_until(driver, dropped, timeout, "the upload area never settled")


def click_settled(driver: Any, css: str, timeout: float = 30) -> None:
    """Click the first element matching `css`, again if the page redrew it meanwhile
    (a table whose rows move on re-renders its cards; a stale click never landed)."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By

    def clicked(d: Any) -> bool:
        found = d.find_elements(By.CSS_SELECTOR, css)
        if not found:
            return False
        try:
            found[0].click()
        except StaleElementReferenceException:
            return False
        return True

    wait_until(driver, clicked, timeout, f"{css} never settled to be clicked")
