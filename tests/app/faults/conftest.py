"""The fault suite's real parts: a small tmpfs data volume that the tests fill and free,
an appliance world (runtime + API) whose data directory lives on it, and a queue drained
in the test's own thread.

Mounting needs root (CI runs as root); outside CI without root the suite is skipped,
in CI it fails.
"""

import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from app.initialise import initialise
from app.services import Services, open_services
from tests.app.conftest import ApiWorld
from tests.app.faults.serving import CONFIG
from tests.conftest import ADMIN_PASSWORD, make_settings, run_cli

VOLUME_MB = 96
# settings every fault world shares: doctor and /health/ready judge a small volume fairly
FAULT_SETTINGS: dict[str, dict[str, Any]] = {
    "storage": {"min_free_disk_mb": 1, "intake_min_free_mb": 0, "reconcile_interval_s": 0.5},
    "ingest": {"parse_timeout_s": 20.0},
}


class Volume:
    """A mounted tmpfs; `fill` takes all (or all but `leave` bytes) of its space with a
    ballast file, `free` gives it back."""

    def __init__(self, mount: Path) -> None:
        self.mount = mount
        self.ballast = mount / "ballast"

    def free_bytes(self) -> int:
        stats = os.statvfs(self.mount)
        return stats.f_bavail * stats.f_frsize

    def fill(self, leave: int = 0) -> None:
        with open(self.ballast, "ab") as out:
            block = b"\0" * (1 << 20)
            while self.free_bytes() - leave > len(block):
                try:
                    out.write(block)
                    out.flush()
                except OSError:
                    return
            rest = self.free_bytes() - leave
            try:
                while rest > 0:
                    out.write(b"\0" * min(rest, 4096))
                    out.flush()
                    rest = self.free_bytes() - leave
            except OSError:
                return

    def free(self) -> None:
        self.ballast.unlink(missing_ok=True)


def _mount(mount: Path) -> None:
    mount.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={VOLUME_MB}m", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        if os.environ.get("CI") == "true":
            pytest.fail(f"cannot mount a tmpfs in CI: {done.stderr.decode()}")
        pytest.skip("mounting a tmpfs needs root")


@pytest.fixture
def volume(tmp_path: Path) -> Iterator[Volume]:
    mount = tmp_path / "volume"
    _mount(mount)
    try:
        yield Volume(mount)
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def merged(**sections: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """FAULT_SETTINGS with a test's own overrides on top."""
    result = {name: dict(values) for name, values in FAULT_SETTINGS.items()}
    for name, values in sections.items():
        result.setdefault(name, {}).update(values)
    return result


@pytest.fixture
def fault_world(volume: Volume) -> Iterator[Callable[..., ApiWorld]]:
    """Build the appliance (runtime + API) with its data directory on the volume."""
    built: list[tuple[ApiWorld, Services]] = []

    def build(**sections: dict[str, Any]) -> ApiWorld:
        settings = make_settings(volume.mount / "data", **merged(**sections))
        initialise(settings, "admin", ADMIN_PASSWORD, demo=False, passphrase=None)
        services = open_services(settings, None)
        world = ApiWorld(services)
        world.client.__enter__()
        built.append((world, services))
        return world

    yield build
    volume.free()
    for world, services in built:
        world.client.__exit__(None, None, None)
        services.close()


def drain(world: ApiWorld, rounds: int = 20) -> int:
    """Run every queued task in this thread (what a worker does), until none is left.
    Returns how many ran."""
    huey = world.runtime.queue.huey
    ran = 0
    for _ in range(rounds):
        tasks = list(iter(huey.dequeue, None))
        if not tasks:
            break
        for task in tasks:
            huey.execute(task)
            ran += 1
    return ran


def upload(world: ApiWorld, tenant: str, headers: dict[str, str], name: str, data: bytes) -> Any:
    return world.client.post(
        f"/api/v1/tenants/{tenant}/documents", headers=headers, files={"files": (name, data)}
    )


def states(world: ApiWorld, tenant_id: str) -> dict[str, str]:
    """Every document's state by file name."""
    ledger = world.runtime.ingest.ledger(tenant_id)
    records, _ = ledger.list_documents(limit=500)
    return {str(r.filename): r.state for r in records}


@pytest.fixture
def appliance_on_volume(volume: Volume, tmp_path: Path) -> tuple[Path, Path]:
    """`appliance init --demo` on the volume; returns (data dir, config)."""
    config = tmp_path / "appliance.toml"
    config.write_text(CONFIG)
    password = tmp_path / "pw"
    password.write_text(ADMIN_PASSWORD + "\n")
    data = volume.mount / "data"
    done = run_cli(
        "init",
        "--data-dir",
        str(data),
        "--config",
        str(config),
        "--admin-password-file",
        str(password),
        "--demo",
    )
    assert done.returncode == 0, done.stderr
    return data, config
