"""A failing disk (EIO on every write and fsync under the data directory, injected with
an LD_PRELOAD shim compiled here with gcc) while `appliance serve` takes uploads: clear
503 `disk_io_error` answers, no document failed for it, recovery without a restart, and
nothing lost across a `kill -9`."""

import os
import shutil
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.app.faults.conftest import Volume
from tests.app.faults.serving import documents, login, ready, until, upload_file
from tests.conftest import run_cli

pytestmark = pytest.mark.slow

SHIM_SOURCE = Path(__file__).with_name("eio_shim.c")


@pytest.fixture(scope="session")
def eio_shim(tmp_path_factory: pytest.TempPathFactory) -> Path:
    gcc = shutil.which("gcc")
    if gcc is None:
        if os.environ.get("CI") == "true":
            pytest.fail("gcc is needed in CI to build the I/O-error shim")
        pytest.skip("no gcc")
    target = tmp_path_factory.mktemp("shim") / "eio_shim.so"
    subprocess.run(
        [gcc, "-shared", "-fPIC", "-O2", "-o", str(target), str(SHIM_SOURCE), "-ldl"], check=True
    )
    return target


def test_io_errors_during_uploads_are_503_and_nothing_is_failed_or_lost(
    volume: Volume,
    appliance_on_volume: tuple[Path, Path],
    server_factory,
    eio_shim: Path,
    tmp_path: Path,
) -> None:
    data, config = appliance_on_volume
    flag = tmp_path / "disk-failing"
    env = {
        "LD_PRELOAD": str(eio_shim),
        "FAULT_EIO_PREFIX": str(data) + "/",
        "FAULT_EIO_FLAG": str(flag),
    }
    # GIVEN a running appliance whose disk works, with one document indexed
    server = server_factory(data, config, env=env)
    server.wait_ready()
    headers = login(server)
    assert (
        upload_file(server, headers, "before.txt", b"written before the disk failed").status_code
        == 202
    )
    until(lambda: documents(server, headers)["before.txt"]["state"] == "indexed", what="index")
    # WHEN the disk starts failing every write, during an upload in flight and a new one
    in_flight = upload_file(server, headers, "in-flight.txt", b"accepted just before the fault")
    assert in_flight.status_code == 202
    flag.touch()
    refused = upload_file(server, headers, "during.txt", b"sent while the disk fails")
    # THEN the new upload gets a clear answer (a disk fault, never a 500), reading works
    assert refused.status_code in (503, 507), refused.text
    assert refused.json()["code"] in ("disk_io_error", "insufficient_storage")
    assert "before.txt" in documents(server, headers)
    time.sleep(3)  # the workers meet the failing disk for a while
    # WHEN the disk recovers (no restart)
    flag.unlink()
    assert (
        upload_file(server, headers, "during.txt", b"sent while the disk fails").status_code == 202
    )

    # THEN every accepted document ends indexed, none failed
    def settled() -> bool:
        found = {n: d["state"] for n, d in documents(server, headers).items()}
        assert "failed" not in found.values(), found
        return set(found) == {"before.txt", "in-flight.txt", "during.txt"} and set(
            found.values()
        ) == {"indexed"}

    until(settled, timeout=120, what="every document indexed")
    # WHEN the disk fails again and the server is killed (-9) mid-fault, then restarted
    flag.touch()
    upload_file(server, headers, "at-kill.txt", b"maybe accepted at the kill")
    server.kill()
    flag.unlink()
    server = server_factory(data, config)
    server.wait_ready()
    headers = login(server)
    # THEN the acknowledged documents are intact, byte for byte, and nothing is stuck
    until(
        lambda: all(d["state"] == "indexed" for d in documents(server, headers).values()),
        what="nothing stuck after the restart",
    )
    for name, content in (
        ("before.txt", b"written before the disk failed"),
        ("in-flight.txt", b"accepted just before the fault"),
        ("during.txt", b"sent while the disk fails"),
    ):
        document = documents(server, headers)[name]
        original = httpx.get(
            f"{server.base}/api/v1/tenants/demo/documents/{document['id']}/original",
            headers=headers,
            timeout=30,
        )
        assert original.content == content
    assert ready(server).status_code == 200
    assert server.stop() == 0
    doctor = run_cli("doctor", "--data-dir", str(data), "--config", str(config))
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
