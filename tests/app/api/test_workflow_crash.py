"""kill -9 of the server while 50 runs are in flight, then a restart: every run reaches a
final state, no step runs more than its attempts, finished steps are not re-run, and a
schedule slot missed while the server was down runs once."""

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.services import open_services
from app.settings import Settings
from tests.conftest import ADMIN_PASSWORD, write_config

pytestmark = pytest.mark.slow

BUSY = """name: busy
concurrency: 100
steps:
  - {id: a, agent: set, with: {v: 1}, retry: 2}
  - {id: pause, agent: wait, needs: a, with: {duration: 1s}, retry: 2}
  - {id: look, agent: search, needs: pause, with: {query: invoice, k: 3}, retry: 2}
  - {id: done, agent: set, needs: look, with: {hits: "{{ steps.look.output.count }}"}, retry: 2}
"""
TICK = """name: tick
triggers:
  - {type: schedule, cron: "* * * * *", timezone: Europe/Berlin}
steps:
  - {id: a, agent: set, with: {slot: "{{ trigger.slot }}"}}
"""


def _rows(settings: Settings, sql: str) -> list[tuple[Any, ...]]:
    services = open_services(settings, None)
    try:
        tenant = services.system.find_tenant("demo")
        with services.tenants.database(tenant.id).read() as conn:
            return [tuple(r) for r in conn.execute(sql).fetchall()]
    finally:
        services.close()


def _login(base: str) -> dict[str, str]:
    token = httpx.post(
        f"{base}/api/v1/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}
    ).json()
    return {"Authorization": f"Bearer {token['access_token']}"}


def test_kill_9_with_50_runs_in_flight_then_restart(
    tmp_path: Path, initialised: Settings, server_factory: Any
) -> None:
    # GIVEN a server running 50 runs of a four-step workflow and a per-minute schedule
    config = write_config(tmp_path / "c.toml", initialised)
    server = server_factory(initialised.data_dir, config)
    server.wait_ready()
    headers = _login(server.base)
    api = f"{server.base}/api/v1/tenants/demo"
    for source in (BUSY, TICK):
        created = httpx.post(
            f"{api}/workflows",
            content=source,
            headers={**headers, "Content-Type": "application/yaml"},
        )
        assert created.status_code == 201, created.text
    saved_at = time.time()
    for _ in range(50):
        assert httpx.post(f"{api}/workflows/busy/run", json={}, headers=headers).status_code == 202
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        done = _count(api, headers, "succeeded")
        if done >= 3:
            break
        time.sleep(0.2)
    # WHEN the server is killed mid-way
    server.kill()
    before = _rows(
        initialised, "SELECT run_id, step_id, finished_at FROM run_steps WHERE status = 'succeeded'"
    )
    unfinished = _rows(
        initialised, "SELECT count(*) FROM runs WHERE status IN ('queued', 'running')"
    )
    assert unfinished[0][0] > 0, "the kill came too late to test anything"
    # ... and stays down past a schedule slot
    missed_slot = (int(saved_at) // 60 + 1) * 60
    time.sleep(max(0.0, missed_slot + 1 - time.time()))
    restarted = server_factory(initialised.data_dir, config)
    restarted.wait_ready()
    # THEN every run reaches a final state
    deadline = time.monotonic() + 240
    while _rows(
        initialised,
        "SELECT count(*) FROM runs r JOIN workflows w ON w.id = r.workflow_id "
        "WHERE w.name = 'busy' AND r.status NOT IN "
        "('succeeded', 'failed', 'cancelled')",
    )[0][0]:
        assert time.monotonic() < deadline, restarted.log.read_text()[-3000:]
        time.sleep(0.5)
    statuses = _rows(
        initialised,
        "SELECT r.status, count(*) FROM runs r JOIN workflows w "
        "ON w.id = r.workflow_id WHERE w.name = 'busy' GROUP BY r.status",
    )
    # (a step interrupted by the kill had a second attempt left, so every run succeeds;
    # with one attempt it fails with worker_lost instead of running twice)
    assert dict(statuses) == {"succeeded": 50}, (
        statuses,
        _rows(initialised, "SELECT step_id, error_code FROM run_steps WHERE status = 'failed'"),
    )
    # no step ran more than its attempts, and finished steps were not run again
    over = _rows(
        initialised,
        "SELECT step_id, attempts, max_attempts FROM run_steps WHERE attempts > max_attempts",
    )
    assert over == []
    after = {
        (r, s): f
        for r, s, f in _rows(
            initialised,
            "SELECT run_id, step_id, finished_at FROM run_steps WHERE status = 'succeeded'",
        )
    }
    assert all(after[(r, s)] == f for r, s, f in before)
    # and the slot missed while the server was down ran exactly once
    time.sleep(2)
    slots = _rows(
        initialised,
        "SELECT json_extract(r.trigger, '$.slot'), count(*) FROM runs r "
        "JOIN workflows w ON w.id = r.workflow_id WHERE w.name = 'tick' "
        "GROUP BY 1",
    )
    counts = dict(slots)
    assert counts.get(float(missed_slot)) == 1, slots
    assert all(count == 1 for count in counts.values())
    restarted.stop()


def _count(api: str, headers: dict[str, str], status: str) -> int:
    body = httpx.get(f"{api}/runs?workflow=busy&status={status}&limit=200", headers=headers).json()
    return len(body["items"])
