"""Degraded mode instead of a crash loop (B4), with the real `appliance serve`.

With the data volume below the intake threshold, or completely full, the server starts,
answers /health/ready with 503 and the reason, lets people sign in, read and delete,
refuses new documents with 507 (API and drop box, whose `.failed` reason file says so),
and resumes by itself once space returns. A `kill -9` in the middle loses nothing.
"""

import json
from pathlib import Path

import httpx
import pytest

from tests.app.faults.conftest import Volume
from tests.app.faults.serving import documents, login, ready, until, upload_file, wait_live
from tests.conftest import run_cli

pytestmark = pytest.mark.slow


def test_a_full_disk_is_served_degraded_and_resumes_by_itself(
    volume: Volume, appliance_on_volume: tuple[Path, Path], server_factory
) -> None:
    data, config = appliance_on_volume
    # GIVEN a running appliance with one document, and one more arriving as it is killed
    server = server_factory(data, config)
    server.wait_ready()
    headers = login(server)
    assert (
        upload_file(server, headers, "first.txt", b"stored while there was room").status_code == 202
    )
    until(lambda: documents(server, headers)["first.txt"]["state"] == "indexed", what="index")
    assert upload_file(server, headers, "second.txt", b"accepted, then kill -9").status_code == 202
    server.kill()
    # WHEN the volume fills completely and the server starts again
    volume.fill()
    server = server_factory(data, config)
    wait_live(server)
    # THEN it runs (no exit 1, no crash loop) and says why it is not ready
    not_ready = ready(server)
    assert not_ready.status_code == 503
    assert "free" in not_ready.json()["reason"]
    # WHEN a little space returns, still below the intake threshold
    volume.free()
    volume.fill(leave=3 * 2**20)
    # THEN people sign in and read; new documents are refused with 507 and a reason
    headers = login(server)
    assert documents(server, headers)["first.txt"]["state"] == "indexed"
    refused = upload_file(server, headers, "third.txt", b"refused while the disk is full")
    assert refused.status_code == 507 and refused.json()["code"] == "insufficient_storage"
    # AND a file dropped into the inbox ends in .failed/ with a reason file saying so
    inbox = data / "inbox" / "demo"
    (inbox / "dropped.txt").write_bytes(b"dropped while the disk is full")
    reason_file = inbox / ".failed" / "dropped.txt.reason.json"
    until(reason_file.exists, what="the drop box's reason file")
    assert json.loads(reason_file.read_text())["code"] == "insufficient_storage"
    # AND deleting a document works
    first = documents(server, headers)["first.txt"]
    deleted = httpx.delete(
        f"{server.base}/api/v1/tenants/demo/documents/{first['id']}", headers=headers, timeout=30
    )
    assert deleted.status_code in (200, 204), deleted.text
    # WHEN space is freed (no restart)
    volume.free()
    # THEN the appliance is ready again, takes new documents, and nothing is left stuck
    until(lambda: ready(server).status_code == 200, what="ready again")
    assert (
        upload_file(server, headers, "third.txt", b"accepted once space returned").status_code
        == 202
    )

    def all_indexed() -> bool:
        found = documents(server, headers)
        return {n: d["state"] for n, d in found.items()} == {
            "second.txt": "indexed",
            "third.txt": "indexed",
        }

    until(all_indexed, what="every document indexed")
    second = documents(server, headers)["second.txt"]
    original = httpx.get(
        f"{server.base}/api/v1/tenants/demo/documents/{second['id']}/original",
        headers=headers,
        timeout=30,
    )
    assert original.content == b"accepted, then kill -9"
    # AND the log holds no flood: a repeated error is written once with a count
    log_text = server.log.read_text()
    assert log_text.count("Traceback") <= 5 and len(log_text.splitlines()) < 500
    assert server.stop() == 0
    # AND `appliance doctor` finds nothing wrong
    doctor = run_cli("doctor", "--data-dir", str(data), "--config", str(config))
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
