"""Workflows and runs over HTTP: validation (422 naming the step), roles, versions,
and, on a real server, a drop-box file that triggers a workflow whose steps all run."""

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.settings import Settings
from tests.app.conftest import ApiWorld
from tests.conftest import ADMIN_PASSWORD, write_config

SIMPLE = """name: simple
inputs:
  who: {type: string, default: world}
steps:
  - id: greet
    agent: set
    with: {text: "hello {{ inputs.who }}"}
"""


@pytest.fixture
def people(world: ApiWorld) -> dict[str, dict[str, str]]:
    world.user("erin")
    world.user("vic")
    world.tenant("acme", erin="editor", vic="viewer")
    return {"editor": world.bearer("erin"), "viewer": world.bearer("vic")}


def _yaml(headers: dict[str, str]) -> dict[str, str]:
    return {**headers, "Content-Type": "application/yaml"}


def test_a_bad_definition_gets_422_naming_the_step_and_line(
    world: ApiWorld, people: dict[str, dict[str, str]]
) -> None:
    # GIVEN a definition whose second step names an unknown agent
    text = "name: bad\nsteps:\n  - id: ok\n    agent: set\n  - id: broken\n    agent: nope\n"
    # WHEN it is posted
    response = world.client.post(
        "/api/v1/tenants/acme/workflows", content=text, headers=_yaml(people["editor"])
    )
    # THEN 422 names the step and line
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "invalid_workflow"
    assert "step 'broken'" in body["detail"] and "line 6" in body["detail"]
    assert body["problems"][0]["step"] == "broken"
    # and a cycle, invalid YAML and a template error are refused the same way
    for bad in (
        "name: c\nsteps:\n  - {id: a, agent: set, needs: b}\n  - {id: b, agent: set, needs: a}\n",
        "name: y\nsteps: [\n",
        'name: t\nsteps:\n  - {id: a, agent: set, with: {v: "{{ ) }}"}}\n',
    ):
        response = world.client.post(
            "/api/v1/tenants/acme/workflows", content=bad, headers=_yaml(people["editor"])
        )
        assert response.status_code == 422, response.text


def test_viewers_read_and_editors_write_and_run(
    world: ApiWorld, people: dict[str, dict[str, str]]
) -> None:
    base = "/api/v1/tenants/acme/workflows"
    refused = world.client.post(base, content=SIMPLE, headers=_yaml(people["viewer"]))
    assert refused.status_code == 403
    created = world.client.post(base, json={"source": SIMPLE}, headers=people["editor"])
    assert created.status_code == 201, created.text
    workflow_id = created.json()["id"]
    listed = world.client.get(base, headers=people["viewer"]).json()["items"]
    assert [w["name"] for w in listed] == ["simple"]
    assert (
        world.client.post(
            f"{base}/{workflow_id}/run", json={}, headers=people["viewer"]
        ).status_code
        == 403
    )
    run = world.client.post(
        f"{base}/{workflow_id}/run", json={"inputs": {"who": "you"}}, headers=people["editor"]
    )
    assert run.status_code == 202, run.text
    assert run.json()["inputs"] == {"who": "you"}
    shown = world.client.get(
        f"/api/v1/tenants/acme/runs/{run.json()['id']}", headers=people["viewer"]
    )
    assert shown.status_code == 200 and shown.json()["workflow"] == "simple"
    bad_inputs = world.client.post(
        f"{base}/{workflow_id}/run", json={"inputs": {"x": 1}}, headers=people["editor"]
    )
    assert bad_inputs.status_code == 422


def test_saving_makes_versions_and_a_rollback_makes_an_old_one_current(
    world: ApiWorld, people: dict[str, dict[str, str]]
) -> None:
    base = "/api/v1/tenants/acme/workflows"
    workflow_id = world.client.post(base, content=SIMPLE, headers=_yaml(people["editor"])).json()[
        "id"
    ]
    changed = world.client.put(
        f"{base}/{workflow_id}",
        content=SIMPLE.replace("world", "moon"),
        headers=_yaml(people["editor"]),
    )
    assert changed.status_code == 200 and changed.json()["version"] == 2
    versions = world.client.get(f"{base}/{workflow_id}/versions", headers=people["viewer"]).json()
    assert [v["version"] for v in versions["items"]] == [2, 1]
    rolled = world.client.put(
        f"{base}/{workflow_id}", json={"version": 1}, headers=people["editor"]
    ).json()
    assert rolled["version"] == 1 and "world" in rolled["source"]
    disabled = world.client.put(
        f"{base}/{workflow_id}", json={"enabled": False}, headers=people["editor"]
    ).json()
    assert disabled["enabled"] is False
    assert world.client.delete(f"{base}/{workflow_id}", headers=people["editor"]).status_code == 204
    assert world.client.get(f"{base}/{workflow_id}", headers=people["viewer"]).status_code == 404


def test_runs_list_filters_and_pages(world: ApiWorld, people: dict[str, dict[str, str]]) -> None:
    base = "/api/v1/tenants/acme"
    workflow_id = world.client.post(
        f"{base}/workflows", content=SIMPLE, headers=_yaml(people["editor"])
    ).json()["id"]
    for _ in range(5):
        world.client.post(f"{base}/workflows/{workflow_id}/run", json={}, headers=people["editor"])
    page = world.client.get(f"{base}/runs?limit=3&workflow=simple", headers=people["viewer"]).json()
    assert len(page["items"]) == 3 and page["next_cursor"]
    rest = world.client.get(
        f"{base}/runs?limit=3&cursor={page['next_cursor']}", headers=people["viewer"]
    ).json()
    assert len(rest["items"]) == 2 and rest["next_cursor"] is None
    # AND an unknown status is a bad request, named by the contract's enum
    assert (
        world.client.get(f"{base}/runs?status=bogus", headers=people["viewer"]).status_code == 400
    )


# --- a real server: the drop box triggers a workflow -----------------------------------

DROP_FLOW = """name: intake
triggers:
  - {type: document, source: dropbox, filename: "*.txt"}
steps:
  - id: note
    agent: set
    with: {file: "{{ trigger.filename }}", doc: "{{ trigger.document_id }}"}
  - id: kind
    agent: classify
    needs: note
    with: {document_id: "{{ steps.note.output.doc }}", labels: [invoice, letter]}
  - id: recent
    agent: documents
    needs: note
    with: {limit: 5}
  - id: done
    agent: set
    needs: [kind, recent]
    with: {label: "{{ steps.kind.output.label }}", seen: "{{ steps.recent.output.count }}"}
"""


def _wait(predicate: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", "redis"])
def test_a_file_in_the_drop_box_runs_every_step_with_outputs_over_the_api(
    tmp_path: Path,
    initialised: Settings,
    server_factory: Any,
    backend: str,
    request: pytest.FixtureRequest,
) -> None:
    # GIVEN a running server with a workflow triggered by drop-box text files, its
    # queue on either backend (the steps work unchanged on both)
    config = write_config(tmp_path / "c.toml", initialised)
    queue = ""
    if backend == "redis":
        url = request.getfixturevalue("redis_server").url()
        queue = f'[queue]\nbackend = "redis"\nredis_url = "{url}"\nname = "{tmp_path.name}"\n'
    config.write_text(
        config.read_text() + "\n[ingest]\ndropbox_poll_interval_s = 0.5\n"
        "dropbox_stable_for_s = 0.3\n" + queue
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
        content=DROP_FLOW,
        headers={**headers, "Content-Type": "application/yaml"},
    )
    assert created.status_code == 201, created.text
    # WHEN a file arrives in the drop box
    (initialised.data_dir / "inbox" / "demo" / "invoice-17.txt").write_text(
        "Invoice 17 from ACME Ltd. Amount due: 120 EUR by 1 March.\n"
    )
    # THEN a run starts and finishes with every step's output visible over the API
    runs = _wait(
        lambda: httpx.get(f"{api}/tenants/demo/runs?workflow=intake", headers=headers).json()[
            "items"
        ],
        120,
        "a run",
    )
    run_id = runs[0]["id"]

    def finished() -> dict[str, Any] | None:
        body = httpx.get(f"{api}/tenants/demo/runs/{run_id}", headers=headers).json()
        return dict(body) if body["status"] in ("succeeded", "failed") else None

    detail = _wait(finished, 180, "the run to finish")
    assert detail["status"] == "succeeded", detail
    steps = {s["step_id"]: s for s in detail["steps"]}
    assert set(steps) == {"note", "kind", "recent", "done"}
    assert steps["note"]["output"]["file"] == "invoice-17.txt"
    assert steps["kind"]["output"]["label"] in ("invoice", "letter")
    assert steps["done"]["output"]["seen"] >= 1
    assert all(s["attempts"] == 1 and s["finished_at"] for s in detail["steps"])
    assert detail["trigger"]["type"] == "document"
    # and the same document does not start the workflow twice
    assert (
        len(httpx.get(f"{api}/tenants/demo/runs?workflow=intake", headers=headers).json()["items"])
        == 1
    )
    if backend == "redis":
        # the queue's password is in no log line
        password = request.getfixturevalue("redis_server").password
        logs = [server.log, *(initialised.data_dir / "logs").glob("*")]
        assert not any(password in path.read_text(errors="replace") for path in logs)


def test_cancel_and_retry_over_the_api(world: ApiWorld, people: dict[str, dict[str, str]]) -> None:
    # GIVEN a run that waits in the queue (the queue is not consumed here)
    base = "/api/v1/tenants/acme"
    workflow_id = world.client.post(
        f"{base}/workflows", content=SIMPLE, headers=_yaml(people["editor"])
    ).json()["id"]
    run_id = world.client.post(
        f"{base}/workflows/{workflow_id}/run", json={}, headers=people["editor"]
    ).json()["id"]
    # WHEN a viewer tries to cancel it THEN it is refused; an editor cancels it
    assert (
        world.client.post(f"{base}/runs/{run_id}/cancel", headers=people["viewer"]).status_code
        == 403
    )
    cancelled = world.client.post(f"{base}/runs/{run_id}/cancel", headers=people["editor"])
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert (
        world.client.post(f"{base}/runs/{run_id}/cancel", headers=people["editor"]).status_code
        == 409
    )
    # AND a retry from the start queues it again
    retried = world.client.post(
        f"{base}/runs/{run_id}/retry", json={"from": "start"}, headers=people["editor"]
    )
    assert retried.status_code == 200, retried.text
    assert retried.json()["status"] == "running" and retried.json()["retries"] == 1
    bad = world.client.post(
        f"{base}/runs/{run_id}/retry", json={"from": "middle"}, headers=people["editor"]
    )
    assert bad.status_code == 400
