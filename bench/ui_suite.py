"""The UI suite: what the browser UI adds on top of the API, in headless Debian Chromium.

Two timings, each beside the API doing the same work on the same server in the same run:
- sign-in: from pressing Enter on the sign-in form to the dashboard being rendered, vs
  POST /api/v1/auth/login (both run argon2 with the configured cost);
- upload to indexed: from handing a 10-page PDF to the upload area to `indexed` being
  shown in the documents table, vs POST .../documents then polling GET .../documents/{id}.
Runs alternate UI-first and API-first so model warm-up and caches favour neither; a
warm-up document is indexed before timing so the embedding model is already loaded.
Needs /usr/bin/chromium and /usr/bin/chromedriver (Debian) and the selenium package.
"""

import io
import os
import secrets
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from app.initialise import initialise
from app.settings import Settings
from bench.common import (
    BenchError,
    appliance_command,
    child_env,
    free_port,
    ratio,
    server_settings,
    settings_toml,
    stop_server,
    wait_ready,
)

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
SIGN_IN_RUNS, UPLOAD_RUNS, PDF_PAGES = 5, 3, 10
POLL_S = 0.02
INDEX_TIMEOUT_S = 300.0
TARGET_OVERHEAD_S = 1.0
FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1280,800",
)


def make_pdf(pages: int, label: str) -> bytes:
    """A PDF of `pages` pages of prose unique to `label` (so no upload is a duplicate)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4)
    pdf.setTitle(label)  # the documents table shows this title
    for page in range(1, pages + 1):
        pdf.drawString(72, 780, f"Benchmark report {label}, page {page}")
        for line in range(1, 30):
            pdf.drawString(
                72,
                770 - 18 * line,
                f"Section {page}.{line} of {label} notes the "
                f"delivery of {page * line} crates to depot {label[-4:]}.",
            )
        pdf.showPage()
    pdf.save()
    return out.getvalue()


@contextmanager
def _browser(profile: Path) -> Iterator[Any]:
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError as exc:
        raise BenchError("the ui suite needs selenium (pip install -e '.[test]')") from exc
    for path in (CHROMIUM, CHROMEDRIVER):
        if not Path(path).exists():
            raise BenchError(f"the ui suite needs Debian chromium and chromium-driver ({path})")
    options = webdriver.ChromeOptions()
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.binary_location = CHROMIUM
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def _wait(driver: Any, condition: Callable[[Any], Any], timeout: float) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, timeout, poll_frequency=POLL_S).until(condition)


def _shown(css: str) -> Callable[[Any], Any]:
    from selenium.webdriver.common.by import By

    return lambda d: any(e.is_displayed() for e in d.find_elements(By.CSS_SELECTOR, css))


def _ui_sign_in(driver: Any, base: str, password: str) -> float:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    driver.get(f"{base}/ui-session/end")  # a fresh sign-in each run
    driver.get(f"{base}/login")
    _wait(driver, _shown("input[type=password]"), 30)
    fields = driver.find_elements(By.CSS_SELECTOR, "input")
    fields[0].send_keys("admin")
    fields[1].send_keys(password)
    started = time.perf_counter()
    fields[1].send_keys(Keys.ENTER)
    _wait(driver, _shown("[data-testid=dashboard-title]"), 30)
    return time.perf_counter() - started


_STATE_JS = """
return [...document.querySelectorAll('[data-testid=documents-table] tbody tr')]
    .filter(r => r.innerText.includes(arguments[0]))
    .map(r => (r.querySelector('.q-badge') || {}).innerText || '')[0] || null
"""


def _send_file(driver: Any, path: Path) -> bool:
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By

    try:
        field = driver.find_element(By.CSS_SELECTOR, "[data-testid=upload] input[type=file]")
        field.send_keys(str(path))
    except StaleElementReferenceException:
        return False
    return True


def _ui_upload(driver: Any, base: str, path: Path) -> float:
    driver.get(f"{base}/documents")
    _wait(driver, _shown("[data-testid=upload]"), 30)
    started = time.perf_counter()
    # Vue may still be mounting the page; a stale input never received the file, so
    # handing it over again cannot upload twice
    _wait(driver, lambda d: _send_file(d, path), 30)
    try:
        _wait(
            driver,
            lambda d: d.execute_script(_STATE_JS, path.name) in ("indexed", "failed"),
            INDEX_TIMEOUT_S,
        )
    except Exception as exc:  # selenium's TimeoutException, named without importing it
        shown = driver.execute_script(_STATE_JS, path.name)
        raise BenchError(f"{path.name} not shown as indexed in time (shown: {shown})") from exc
    elapsed = time.perf_counter() - started
    if driver.execute_script(_STATE_JS, path.name) != "indexed":
        raise BenchError(f"{path.name} failed to index in the UI run")
    return elapsed


def _api_upload(client: httpx.Client, headers: dict[str, str], name: str, data: bytes) -> float:
    started = time.perf_counter()
    answer = client.post(
        "/api/v1/tenants/demo/documents",
        headers=headers,
        files={"files": (name, data, "application/pdf")},
    )
    if answer.status_code != 202:
        raise BenchError(f"API upload failed: HTTP {answer.status_code} {answer.text[:200]}")
    doc_id = answer.json()["items"][0]["id"]
    while time.perf_counter() - started < INDEX_TIMEOUT_S:
        state = client.get(f"/api/v1/tenants/demo/documents/{doc_id}", headers=headers).json()
        if state["state"] in ("indexed", "failed"):
            if state["state"] != "indexed":
                raise BenchError(f"{name} failed to index in the API run: {state.get('error')}")
            return time.perf_counter() - started
        time.sleep(POLL_S)
    raise BenchError(f"{name} was not indexed within {INDEX_TIMEOUT_S:.0f}s")


def _summary(ui: list[float], api: list[float]) -> dict[str, Any]:
    ui_m, api_m = statistics.median(ui), statistics.median(api)
    return {
        "ui_seconds": [round(x, 3) for x in ui],
        "api_seconds": [round(x, 3) for x in api],
        "ui_median_seconds": round(ui_m, 3),
        "api_median_seconds": round(api_m, 3),
        "ui_overhead_seconds": round(ui_m - api_m, 3),
        "ui_vs_api_ratio": ratio(ui_m, api_m),
    }


def _measure(base: str, password: str, workdir: Path) -> dict[str, Any]:
    client = httpx.Client(base_url=base, timeout=60)
    login = {"username": "admin", "password": password}
    with client, _browser(workdir / "chromium-profile") as driver:
        token = client.post("/api/v1/auth/login", json=login).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        _api_upload(client, headers, "warm-up.pdf", make_pdf(PDF_PAGES, "warm-up"))
        sign_ui, sign_api = [], []
        for run in range(SIGN_IN_RUNS):
            order = ("ui", "api") if run % 2 == 0 else ("api", "ui")
            for side in order:
                if side == "ui":
                    sign_ui.append(_ui_sign_in(driver, base, password))
                else:
                    started = time.perf_counter()
                    client.post("/api/v1/auth/login", json=login).raise_for_status()
                    sign_api.append(time.perf_counter() - started)
        up_ui, up_api = [], []
        for run in range(UPLOAD_RUNS):
            order = ("ui", "api") if run % 2 == 0 else ("api", "ui")
            for side in order:
                name = f"report-{side}-{run}-{secrets.token_hex(3)}.pdf"
                data = make_pdf(PDF_PAGES, name)
                if side == "ui":
                    path = workdir / name
                    path.write_bytes(data)
                    up_ui.append(_ui_upload(driver, base, path))
                else:
                    up_api.append(_api_upload(client, headers, name, data))
    return {"sign_in": _summary(sign_ui, sign_api), "upload_to_indexed": _summary(up_ui, up_api)}


def run_ui(settings: Settings) -> dict[str, Any]:
    """Start `appliance serve` on a fresh data directory and time UI against API."""
    with tempfile.TemporaryDirectory(prefix="appliance-bench-ui-") as scratch:
        workdir = Path(scratch)
        bench_settings = server_settings(settings, workdir / "data")
        if bench_settings.server.tls:
            raise BenchError("run the ui suite with server.tls = false (plain loopback)")
        password = secrets.token_urlsafe(18)
        initialise(bench_settings, "admin", password, demo=True, passphrase=None)
        config = workdir / "appliance.toml"
        config.write_text(settings_toml(bench_settings))
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        command = [
            *appliance_command(),
            "serve",
            "--config",
            str(config),
            "--data-dir",
            str(workdir / "data"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ]
        with (workdir / "serve.log").open("wb") as log:
            process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, env=child_env()
            )
            try:
                ready = wait_ready(process, base, verify=True)
                if not ready["ready"]:
                    raise BenchError(f"the server did not start: {ready['detail']}")
                results = _measure(base, password, workdir)
            finally:
                stopped = stop_server(process, bench_settings.server.shutdown_timeout_s + 30)
        shutil.rmtree(workdir / "chromium-profile", ignore_errors=True)
    sign_in, upload = results["sign_in"], results["upload_to_indexed"]
    return {
        "parameters": {
            "sign_in_runs": SIGN_IN_RUNS,
            "upload_runs": UPLOAD_RUNS,
            "pdf_pages": PDF_PAGES,
            "poll_interval_seconds": POLL_S,
            "browser": f"{CHROMIUM} (headless)",
            "cpus": os.cpu_count(),
        },
        "results": {**results, "server_exit": stopped},
        "targets": {"ui_overhead_seconds_max": TARGET_OVERHEAD_S},
        "met": {
            "sign_in_overhead": sign_in["ui_overhead_seconds"] <= TARGET_OVERHEAD_S,
            "upload_to_indexed_overhead": upload["ui_overhead_seconds"] <= TARGET_OVERHEAD_S,
            "clean_shutdown": stopped.get("exit_code") == 0,
        },
    }
