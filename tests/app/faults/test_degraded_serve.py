"""Degraded mode instead of a crash loop (B4), with the real `appliance serve`.

With the data volume below the intake threshold, or completely full, the server starts,
answers /health/ready with 503 and the reason, lets people sign in, read and delete,
refuses new documents with 507 (API and drop box, whose `.failed` reason file says so),
and resumes by itself once space returns. A `kill -9` in the middle loses nothing.
"""

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.app.faults.conftest import Volume
from tests.conftest import ADMIN_PASSWORD, FAST_SECURITY, RunningServer, run_cli

pytestmark = pytest.mark.slow

CONFIG = (
    "[security]\n"
    + "".join(f"{k} = {v}\n" for k, v in FAST_SECURITY.items())
    + "[models]\nllm_warm_on_start = false\n"
    + "[storage]\nmin_free_disk_mb = 1\nintake_min_free_mb = 8\nreconcile_interval_s = 0.5\n"
    + "retry_backoff_s = 0.5\n"
    + "[ingest]\ndropbox_poll_interval_s = 0.5\ndropbox_stable_for_s = 0.5\n"
    + "parse_timeout_s = 20.0\n"
)


def _until(check: Callable[[], Any], timeout: float = 90, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


def _wait_live(server: RunningServer, timeout: float = 90) -> None:
    def live() -> bool:
        if server.process.poll() is not None:
            raise AssertionError(f"server exited:\n{server.log.read_text()}")
        try:
            return httpx.get(f"{server.base}/api/v1/health/live", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    _until(live, timeout, "the server to answer")


def _ready(server: RunningServer) -> httpx.Response:
    return httpx.get(f"{server.base}/api/v1/health/ready", timeout=5)


@pytest.fixture
def appliance_on_volume(volume: Volume, tmp_path: Path) -> tuple[Path, Path]:
    """`appliance init --demo` on the volume; returns (data dir, config)."""
    config = tmp_path / "appliance.toml"
    config.write_text(CONFIG)
    password = tmp_path / "pw"
    password.write_text(ADMIN_PASSWORD + "\n")
    data = volume.mount / "data"
    done = run_cli(
        "init", "--data-dir", str(data), "--config", str(config),
        "--admin-password-file", str(password), "--demo",
    )
    assert done.returncode == 0, done.stderr
    return data, config


def _login(server: RunningServer) -> dict[str, str]:
    answer = httpx.post(
        f"{server.base}/api/v1/auth/login",
        json={"username": "admin", "password": ADMIN_PASSWORD},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def _upload(server: RunningServer, headers: dict[str, str], name: str, data: bytes) -> httpx.Response:
    return httpx.post(
        f"{server.base}/api/v1/tenants/demo/documents",
        headers=headers,
        files={"files": (name, data)},
        timeout=60,
    )


def _documents(server: RunningServer, headers: dict[str, str]) -> dict[str, dict[str, Any]]:
    answer = httpx.get(
        f"{server.base}/api/v1/tenants/demo/documents?limit=200", headers=headers, timeout=30
    )
    assert answer.status_code == 200, answer.text
    return {d["filename"]: d for d in answer.json()["items"]}


def test_a_full_disk_is_served_degraded_and_resumes_by_itself(
    volume: Volume, appliance_on_volume: tuple[Path, Path], server_factory
) -> None:
    data, config = appliance_on_volume
    # GIVEN a running appliance with one document, and one more arriving as it is killed
    server = server_factory(data, config)
    server.wait_ready()
    headers = _login(server)
    assert _upload(server, headers, "first.txt", b"stored while there was room").status_code == 202
    _until(lambda: _documents(server, headers)["first.txt"]["state"] == "indexed", what="index")
    assert _upload(server, headers, "second.txt", b"accepted, then kill -9").status_code == 202
    server.kill()
    # WHEN the volume fills completely and the server starts again
    volume.fill()
    server = server_factory(data, config)
    _wait_live(server)
    # THEN it runs (no exit 1, no crash loop) and says why it is not ready
    not_ready = _ready(server)
    assert not_ready.status_code == 503
    assert "free" in not_ready.json()["reason"]
    # WHEN a little space returns, still below the intake threshold
    volume.free()
    volume.fill(leave=3 * 2**20)
    # THEN people sign in and read; new documents are refused with 507 and a reason
    headers = _login(server)
    assert _documents(server, headers)["first.txt"]["state"] == "indexed"
    refused = _upload(server, headers, "third.txt", b"refused while the disk is full")
    assert refused.status_code == 507 and refused.json()["code"] == "insufficient_storage"
    # AND a file dropped into the inbox ends in .failed/ with a reason file saying so
    inbox = data / "inbox" / "demo"
    (inbox / "dropped.txt").write_bytes(b"dropped while the disk is full")
    reason_file = inbox / ".failed" / "dropped.txt.reason.json"
    _until(reason_file.exists, what="the drop box's reason file")
    assert json.loads(reason_file.read_text())["code"] == "insufficient_storage"
    # AND deleting a document works
    first = _documents(server, headers)["first.txt"]
    deleted = httpx.delete(
        f"{server.base}/api/v1/tenants/demo/documents/{first['id']}", headers=headers, timeout=30
    )
    assert deleted.status_code in (200, 204), deleted.text
    # WHEN space is freed (no restart)
    volume.free()
    # THEN the appliance is ready again, takes new documents, and nothing is left stuck
    _until(lambda: _ready(server).status_code == 200, what="ready again")
    assert _upload(server, headers, "third.txt", b"accepted once space returned").status_code == 202

    def all_indexed() -> bool:
        found = _documents(server, headers)
        return {n: d["state"] for n, d in found.items()} == {
            "second.txt": "indexed",
            "third.txt": "indexed",
        }

    _until(all_indexed, what="every document indexed")
    second = _documents(server, headers)["second.txt"]
    original = httpx.get(
        f"{server.base}/api/v1/tenants/demo/documents/{second['id']}/original",
        headers=headers,
        timeout=30,
    )
    assert original.content == b"accepted, then kill -9"
    assert server.stop() == 0
    # AND `appliance doctor` finds nothing wrong
    doctor = run_cli("doctor", "--data-dir", str(data), "--config", str(config))
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
