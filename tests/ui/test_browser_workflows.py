"""A drop-box file triggers a workflow on a real `appliance serve`; a real browser shows
the run's steps and outputs live, and the editor draws the step graph."""

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.settings import Settings
from tests.conftest import ADMIN_PASSWORD, write_config
from tests.ui.browser import chromium, require_browser, screenshot, sign_in, wait_for, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.slow]

FLOW = """name: drop-intake
triggers:
  - {type: document, source: dropbox}
steps:
  - {id: note, agent: set, with: {file: "{{ trigger.filename }}"}}
  - {id: recent, agent: documents, needs: note, with: {limit: 3}}
  - id: done
    agent: set
    needs: recent
    with: {summary: "{{ steps.note.output.file }} with {{ steps.recent.output.count }} documents"}
"""


def test_a_dropped_file_runs_a_workflow_whose_steps_show_in_the_browser(
    initialised: Settings, server_factory: Any, tmp_path: Path
) -> None:
    require_browser()
    # GIVEN a running appliance with a workflow triggered by the drop box
    config = write_config(tmp_path / "c.toml", initialised)
    config.write_text(
        config.read_text() + "\n[ingest]\ndropbox_poll_interval_s = 0.5\n"
        "dropbox_stable_for_s = 0.3\n"
    )
    server = server_factory(initialised.data_dir, config)
    server.wait_ready()
    api = f"{server.base}/api/v1"
    token = httpx.post(
        f"{api}/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}
    ).json()
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    created = httpx.post(
        f"{api}/tenants/demo/workflows",
        content=FLOW,
        headers={**headers, "Content-Type": "application/yaml"},
    )
    assert created.status_code == 201, created.text
    # WHEN a file is dropped in the drop box
    (initialised.data_dir / "inbox" / "demo" / "delivery-note.txt").write_text(
        "Delivery note 88: three pallets of paper.\n"
    )
    deadline = time.monotonic() + 120
    runs: list[dict[str, Any]] = []
    while not runs:
        assert time.monotonic() < deadline, "no run started"
        runs = httpx.get(f"{api}/tenants/demo/runs", headers=headers).json()["items"]
        time.sleep(0.3)
    with chromium() as driver:
        sign_in(driver, server.base, "admin", ADMIN_PASSWORD)
        wait_for(driver, "[data-testid=dashboard-title]")
        # THEN the run's page shows every step and the outputs, updating without reload
        driver.get(f"{server.base}/runs/{runs[0]['id']}")
        wait_for(driver, "[data-testid=timeline]")
        wait_for(driver, "[data-testid=run-status-succeeded]", timeout=120)
        wait_until(driver, lambda d: "delivery-note.txt with 1 documents" in d.page_source, 30)
        screenshot(driver, "workflows-01-run")
        for step in ("note", "recent", "done"):
            wait_for(driver, f"[data-testid=step-{step}]")
        # AND the editor draws the graph of the steps
        driver.get(f"{server.base}/workflows/edit?id={created.json()['id']}")
        wait_for(driver, "[data-testid=no-problems]", timeout=30)
        wait_until(driver, lambda d: "svg" in d.page_source and "recent" in d.page_source, 30)
        screenshot(driver, "workflows-02-editor")
        driver.get(f"{server.base}/workflows")
        wait_for(driver, "[data-testid=workflow-drop-intake]")
        screenshot(driver, "workflows-03-list")
