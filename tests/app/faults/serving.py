"""Helpers for fault tests against the real `appliance serve` (HTTP on 127.0.0.1)."""

import time
from collections.abc import Callable
from typing import Any

import httpx

from tests.conftest import ADMIN_PASSWORD, FAST_SECURITY, RunningServer

CONFIG = (
    "[security]\n"
    + "".join(f"{k} = {v}\n" for k, v in FAST_SECURITY.items())
    + "[models]\nllm_warm_on_start = false\n"
    + "[storage]\nmin_free_disk_mb = 1\nintake_min_free_mb = 8\nreconcile_interval_s = 0.5\n"
    + "retry_backoff_s = 0.5\n"
    # a document whose next task a full disk kept out of the queue, with no fault noted
    # either, is queued again after this grace (the default is two minutes)
    + "[queue]\norphan_after_s = 5\n"
    + "[ingest]\ndropbox_poll_interval_s = 0.5\ndropbox_stable_for_s = 0.5\n"
    + "parse_timeout_s = 20.0\n"
)


def until(check: Callable[[], Any], timeout: float = 90, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


def wait_live(server: RunningServer, timeout: float = 90) -> None:
    def live() -> bool:
        if server.process.poll() is not None:
            raise AssertionError(f"server exited:\n{server.log.read_text()}")
        try:
            return httpx.get(f"{server.base}/api/v1/health/live", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    until(live, timeout, "the server to answer")


def ready(server: RunningServer) -> httpx.Response:
    return httpx.get(f"{server.base}/api/v1/health/ready", timeout=5)


def login(server: RunningServer) -> dict[str, str]:
    answer = httpx.post(
        f"{server.base}/api/v1/auth/login",
        json={"username": "admin", "password": ADMIN_PASSWORD},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def upload_file(
    server: RunningServer, headers: dict[str, str], name: str, data: bytes
) -> httpx.Response:
    return httpx.post(
        f"{server.base}/api/v1/tenants/demo/documents",
        headers=headers,
        files={"files": (name, data)},
        timeout=60,
    )


def documents(server: RunningServer, headers: dict[str, str]) -> dict[str, dict[str, Any]]:
    answer = httpx.get(
        f"{server.base}/api/v1/tenants/demo/documents?limit=200", headers=headers, timeout=30
    )
    assert answer.status_code == 200, answer.text
    return {d["filename"]: d for d in answer.json()["items"]}
