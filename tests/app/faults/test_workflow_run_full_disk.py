"""A workflow run on a full disk: starting one is a clear 507; a run whose step meets the
full disk is not failed for it, and finishes once space returns, without a restart."""

import contextlib

from tests.app.faults.conftest import Volume, drain

TWO_STEPS = """name: two
steps:
  - id: first
    agent: set
    with: {text: "one"}
  - id: second
    agent: set
    needs: first
    with: {text: "{{ steps.first.output.text }} and two"}
"""


def test_a_run_caught_by_a_full_disk_finishes_once_space_returns(
    volume: Volume, fault_world
) -> None:
    # GIVEN an editor and a workflow, and a run started while there was room
    world = fault_world()
    world.user("erin")
    world.tenant("acme", erin="editor")
    headers = world.bearer("erin")
    base = "/api/v1/tenants/acme/workflows"
    created = world.client.post(base, json={"source": TWO_STEPS}, headers=headers)
    assert created.status_code == 201, created.text
    run = world.client.post(f"{base}/{created.json()['id']}/run", json={}, headers=headers)
    assert run.status_code == 202, run.text
    run_url = f"/api/v1/tenants/acme/runs/{run.json()['id']}"
    # WHEN a worker takes its step and the disk fills while it runs
    huey = world.runtime.queue.huey
    taken = list(iter(huey.dequeue, None))
    volume.fill()
    for task in taken:
        with contextlib.suppress(Exception):  # the task fails; the run must not
            huey.execute(task)
    # THEN a new run is refused with 507, and the caught run is not failed
    refused = world.client.post(f"{base}/{created.json()['id']}/run", json={}, headers=headers)
    assert refused.status_code == 507, refused.text
    assert world.client.get(run_url, headers=headers).json()["status"] in ("queued", "running")
    # WHEN space returns and the fault reconciler passes (no restart)
    volume.free()
    world.clock.advance(3 * 3600)
    world.runtime.fault_reconciler.run_once()
    drain(world)
    # THEN the run succeeded with both steps
    shown = world.client.get(run_url, headers=headers).json()
    assert shown["status"] == "succeeded", shown
