"""Acceptance of issue 21, item 2: with 50 tenants, 20 restarts of the real server all
start cleanly (before the fix about half exited with "already has a drop box": the
start-up drop-box sync raced the periodic sync task the queue runs at once)."""

import signal
from pathlib import Path

import pytest

from app.services import open_services
from app.settings import Settings
from tests.conftest import write_config

pytestmark = pytest.mark.slow

TENANTS = 50
RESTARTS = 20


def test_twenty_restarts_with_fifty_tenants_all_start_cleanly(
    initialised: Settings, server_factory, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    # GIVEN a data directory with 50 tenants besides the demo one
    services = open_services(initialised, None)
    try:
        for number in range(TENANTS):
            services.tenants.create(f"tenant-{number:02d}")
    finally:
        services.close()
    config = write_config(tmp_path / "c.toml", initialised)
    outcomes = []
    # WHEN the server is started (until /health/ready) and stopped 20 times
    for _ in range(RESTARTS):
        server = server_factory(initialised.data_dir, config)
        server.wait_ready(timeout=120)
        server.process.send_signal(signal.SIGTERM)
        code = server.stop()
        log = server.log.read_text()
        outcomes.append((code, "already has a drop box" in log, "Traceback" in log))
    # THEN every start was clean and every stop exited 0, without a traceback
    assert outcomes == [(0, False, False)] * RESTARTS
    # AND every tenant's inbox is there
    inboxes = {p.name for p in (initialised.data_dir / "inbox").iterdir()}
    assert {f"tenant-{n:02d}" for n in range(TENANTS)} <= inboxes
