"""Reports API: request (202, generated off the request path), list with cursor paging,
show, download, delete; report templates; viewers read but do not generate or delete;
a missing field is a 422 naming it; a 100,000-row PDF is refused as too_large."""

import subprocess
from typing import Any

import pytest

from agents.report.service import ReportService
from tests.app.conftest import TENANT_404, ApiWorld

URL = "/api/v1/tenants/acme/reports"
TEMPLATES = "/api/v1/tenants/acme/report-templates"
ROWS = [{"name": f"item {i}", "amount": i * 1.5} for i in range(5)]
SHEET = {
    "id": "items-sheet",
    "title": "Items",
    "sections": [
        {"type": "table", "columns": ["name", {"field": "amount", "type": "currency"}]},
        {"type": "chart", "chart": "bar", "category": "name", "series": ["amount"]},
    ],
}


@pytest.fixture
def people(world: ApiWorld) -> dict[str, dict[str, str]]:
    for name in ("ed", "vera", "outsider"):
        world.user(name)
    world.tenant("acme", ed="editor", vera="viewer")
    world.tenant("other", outsider="owner")
    return {name: world.bearer(name) for name in ("ed", "vera", "outsider")}


def _run_queue(world: ApiWorld, report_id: str) -> dict[str, Any]:
    """Do what the queue worker does for `report.generate` (the test queue is not started)."""
    reports: ReportService = world.runtime.reports
    tenant_id = world.services.system.find_tenant("acme").id
    return reports.generate(tenant_id, report_id).public()


def test_editor_requests_a_report_and_downloads_it_once_generated(
    world: ApiWorld, people: dict[str, dict[str, str]]
) -> None:
    editor = people["ed"]
    # WHEN an editor requests a report over given rows
    response = world.client.post(
        URL,
        headers=editor,
        json={
            "template": "run-report",
            "format": "csv",
            "data": {
                "workflow": "w",
                "run_id": "r",
                "status": "ok",
                "started_at": "",
                "finished_at": "",
                "steps": [
                    {
                        "step": "a",
                        "agent": "x",
                        "status": "ok",
                        "attempts": 1,
                        "duration_s": 2,
                        "error": None,
                    }
                ],
            },
        },
    )
    # THEN it is accepted and queued, not generated on the request path
    assert response.status_code == 202, response.text
    report_id = response.json()["id"]
    shown = world.client.get(f"{URL}/{report_id}", headers=editor).json()
    assert shown["status"] == "queued" and shown["created_by"] == "ed"
    assert world.client.get(f"{URL}/{report_id}/download", headers=editor).status_code == 409
    # WHEN the queue has generated it
    assert _run_queue(world, report_id)["status"] == "succeeded"
    # THEN it downloads as CSV with a file name
    download = world.client.get(f"{URL}/{report_id}/download", headers=editor)
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    assert "run-report-" in download.headers["content-disposition"]
    assert download.content.splitlines()[0] == b"Step,Agent,Status,Attempts,Seconds,Error"


def test_viewer_lists_and_downloads_but_cannot_generate_or_delete(
    world: ApiWorld, people: dict[str, dict[str, str]]
) -> None:
    # GIVEN a finished report made by an editor
    world.client.post(TEMPLATES, headers=people["ed"], json=SHEET)
    made = world.client.post(
        URL, headers=people["ed"], json={"template": "items-sheet", "format": "xlsx", "data": ROWS}
    )
    report_id = made.json()["id"]
    _run_queue(world, report_id)
    viewer = people["vera"]
    # WHEN a viewer lists, shows and downloads it
    # THEN that works
    assert [r["id"] for r in world.client.get(URL, headers=viewer).json()["items"]] == [report_id]
    download = world.client.get(f"{URL}/{report_id}/download", headers=viewer)
    assert download.status_code == 200 and download.content[:2] == b"PK"
    assert world.client.get(TEMPLATES, headers=viewer).status_code == 200
    # AND generating, deleting and adding templates are refused
    refused = world.client.post(URL, headers=viewer, json={"template": "activity"})
    assert refused.status_code == 403
    assert world.client.delete(f"{URL}/{report_id}", headers=viewer).status_code == 403
    added = world.client.post(TEMPLATES, headers=viewer, json={**SHEET, "id": "x"})
    assert added.status_code == 403
    # AND an editor may delete it: it is gone, file and all
    assert world.client.delete(f"{URL}/{report_id}", headers=people["ed"]).status_code == 204
    assert world.client.get(f"{URL}/{report_id}", headers=viewer).status_code == 404
    assert any(e["action"] == "report.delete" for e in world.audit())


def test_a_template_naming_a_missing_field_is_a_422_naming_it(
    world: ApiWorld, people: dict[str, dict[str, str]]
) -> None:
    editor = people["ed"]
    world.client.post(TEMPLATES, headers=editor, json=SHEET)
    # WHEN rows lack the `amount` the template's table and chart read
    response = world.client.post(
        URL, headers=editor, json={"template": "items-sheet", "data": [{"name": "a"}]}
    )
    # THEN 422 names the field
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "missing_field" and "'amount'" in body["detail"]
    # AND a tenant template over activity that reads an unknown field is refused when added
    bad = {
        "id": "bad-activity",
        "title": "x",
        "data": {"source": "activity"},
        "sections": [{"type": "table", "dataset": "per_day", "columns": ["day", "visitors"]}],
    }
    added = world.client.post(TEMPLATES, headers=editor, json=bad)
    assert added.status_code == 422 and "'visitors'" in added.json()["detail"]


def test_a_100000_row_pdf_is_refused_as_too_large(
    world: ApiWorld, people: dict[str, dict[str, str]]
) -> None:
    editor = people["ed"]
    world.client.post(TEMPLATES, headers=editor, json=SHEET)
    rows = [{"name": f"n{i}", "amount": i} for i in range(100_000)]
    response = world.client.post(
        URL, headers=editor, json={"template": "items-sheet", "format": "pdf", "data": rows}
    )
    assert response.status_code == 413
    assert response.json()["code"] == "too_large"


def test_templates_list_builtins_and_take_yaml(
    world: ApiWorld, people: dict[str, dict[str, str]]
) -> None:
    editor = people["ed"]
    # WHEN a template is added as YAML
    yaml_text = "id: notes\ntitle: Notes\nsections:\n  - type: text\n    text: '**Hello**'\n"
    added = world.client.post(
        TEMPLATES, headers={**editor, "Content-Type": "application/yaml"}, content=yaml_text
    )
    assert added.status_code == 201, added.text
    # THEN the list has the built-ins first and the tenant's own after them
    listed = world.client.get(TEMPLATES, headers=editor).json()["items"]
    ids = [t["id"] for t in listed]
    assert ids[:5] == ["activity", "document-summary", "extraction-table", "qa-brief", "run-report"]
    assert ids[5:] == ["notes"] and not listed[5]["builtin"]
    # AND a built-in id cannot be taken, nor one already added
    assert (
        world.client.post(TEMPLATES, headers=editor, json={**SHEET, "id": "activity"}).status_code
        == 409
    )
    assert (
        world.client.post(
            TEMPLATES, headers={**editor, "Content-Type": "application/yaml"}, content=yaml_text
        ).status_code
        == 409
    )


def test_listing_pages_with_a_cursor_and_other_tenants_see_nothing(
    world: ApiWorld, people: dict[str, dict[str, str]]
) -> None:
    editor = people["ed"]
    # GIVEN five activity reports (no parameters needed)
    made = [
        world.client.post(URL, headers=editor, json={"template": "activity"}).json()["id"]
        for _ in range(5)
    ]
    # WHEN they are listed two at a time
    seen: list[str] = []
    cursor = None
    while True:
        query = f"?limit=2&cursor={cursor}" if cursor else "?limit=2"
        page = world.client.get(URL + query, headers=editor).json()
        seen += [r["id"] for r in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    # THEN every report appears once, newest first
    assert seen == list(reversed(made))
    # AND a member of another tenant gets the unknown-tenant 404
    other = world.client.get(URL, headers=people["outsider"])
    assert other.status_code == 404 and other.json() == TENANT_404


def test_reports_a_stopped_process_left_are_queued_again_once(
    world: ApiWorld, people: dict[str, dict[str, str]]
) -> None:
    from app.report_wiring import requeue_unfinished_reports

    reports = world.runtime.reports
    queue = world.runtime.queue
    # GIVEN a requested report whose task still waits in queue.db
    report_id = world.client.post(URL, headers=people["ed"], json={"template": "activity"}).json()[
        "id"
    ]
    # WHEN the start-up reconciliation runs THEN it is not queued a second time
    assert requeue_unfinished_reports(reports, world.services, queue) == 0
    # GIVEN the task was lost while it ran (Huey does not redeliver it)
    tenant_id = world.services.system.find_tenant("acme").id
    assert reports.store(tenant_id).claim(report_id)
    queue.huey.flush()
    # WHEN the reconciliation runs THEN it is queued again, and the queue makes it
    assert requeue_unfinished_reports(reports, world.services, queue) == 1
    assert len(queue.huey.pending()) == 1
    assert _run_queue(world, report_id)["status"] == "succeeded"


def _mark_running(world: ApiWorld, tenant_id: str, report_id: str, holder: str) -> None:
    """The report as a process `holder` left it: running, claimed by it."""
    with world.services.tenants.database(tenant_id).write() as conn:
        conn.execute(
            "UPDATE reports SET status = 'running', claimed_by = ? WHERE id = ?",
            (holder, report_id),
        )


def test_the_periodic_pass_requeues_reports_of_dead_processes_and_lost_tasks_only(
    world: ApiWorld, people: dict[str, dict[str, str]]
) -> None:
    # GIVEN three requested reports whose tasks workers took from the queue: one was being
    # made by a process that died, one by a live process, one's task was simply lost
    made = [
        world.client.post(URL, headers=people["ed"], json={"template": "activity"}).json()["id"]
        for _ in range(3)
    ]
    queue = world.runtime.queue
    queue.huey.flush()
    tenant_id = world.services.system.find_tenant("acme").id
    dead = subprocess.Popen(["true"])  # its pid names no process once reaped
    dead.wait()
    alive = subprocess.Popen(["sleep", "60"])
    try:
        _mark_running(world, tenant_id, made[0], f"{dead.pid}:1")
        _mark_running(world, tenant_id, made[1], f"{alive.pid}:0")
        reconciler = world.runtime.fault_reconciler
        # WHEN the reconciler passes at once
        # THEN only the dead process's report is queued again
        assert reconciler.run_once().reports == 1
        assert [t.args[0].report_id for t in queue.huey.pending()] == [made[0]]
        queue.huey.flush()
        # WHEN the orphan grace has passed THEN the lost one is queued too, not the live one
        world.clock.advance(world.services.settings.queue.orphan_after_s + 1)
        assert reconciler.run_once().reports == 2
        assert {t.args[0].report_id for t in queue.huey.pending()} == {made[0], made[2]}
        # AND a second delivery while a live process holds the report makes nothing
        assert _run_queue(world, made[1])["status"] == "running"
    finally:
        alive.kill()
        alive.wait()
