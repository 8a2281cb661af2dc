"""The Reports page with NiceGUI's simulated user: an editor generates a report from a
template's form, sees it listed once the queue made it, previews its first PDF page and
deletes it; a viewer sees and previews but gets no generate form or delete button."""

import shutil

import pytest
from nicegui import ui

from agents.report.service import ReportService
from tests.ui.conftest import UiWorld, by_testid, has_testid, simulated_user, wait_testid

pytestmark = pytest.mark.anyio


def _make_queued(world: UiWorld) -> None:
    """What the queue worker does for every queued report (the test queue is not started)."""
    reports: ReportService = world.runtime.reports
    tenant_id = world.tenant_id("demo")
    for record in reports.store(tenant_id).unfinished():
        reports.generate(tenant_id, record.id)


async def test_editor_generates_previews_and_deletes_a_report(world: UiWorld) -> None:
    if shutil.which("pdftoppm") is None:
        pytest.skip("needs pdftoppm (Debian poppler-utils)")
    async with simulated_user(world, session_of="eddie") as user:
        # GIVEN an editor on the Reports page
        await user.open("/reports")
        await user.should_see("No reports yet")
        # WHEN she picks the activity template, which shows its parameters, and generates
        by_testid(user, "report-template").elements.pop().set_value("activity")
        await user.should_see("Days")
        by_testid(user, "generate").click()
        await user.should_see("Report queued", retries=20)
        # THEN once the queue has made it, the list shows it finished
        _make_queued(world)
        await user.should_see("succeeded", retries=40)
        # WHEN she previews it THEN the first page is shown as an image
        by_testid(user, "preview-report").click()
        await wait_testid(user, "report-preview")
        assert user.client is not None
        images = [e for e in user.client.elements.values() if isinstance(e, ui.image)]
        assert images and str(images[0].source).startswith("data:image/png;base64,")
        # WHEN she deletes it THEN the list is empty again
        by_testid(user, "delete-report").click()
        by_testid(user, "confirm-delete").click()
        await user.should_see("No reports yet", retries=40)
    reports: ReportService = world.runtime.reports
    assert reports.list_reports(world.tenant_id("demo"))[0] == []


async def test_viewer_sees_reports_but_cannot_generate_or_delete(world: UiWorld) -> None:
    # GIVEN a report an editor made
    backend, tenant = world.backend, world.tenant_id("demo")
    made = backend.request_report(world.session("eddie"), tenant, "activity", "csv", {})
    _make_queued(world)
    async with simulated_user(world, session_of="vera") as user:
        # WHEN a viewer opens the page
        await user.open("/reports")
        # THEN she sees it with a download button, and no form
        await wait_testid(user, f"report-{made['id']}")
        assert has_testid(user, "download-report")
        assert not has_testid(user, "generate-report")
    # AND the backend refuses her generating or deleting, as the API does
    viewer = world.session("vera")
    with pytest.raises(Exception, match="editor"):
        backend.request_report(viewer, tenant, "activity", "pdf", {})
    with pytest.raises(Exception, match="editor"):
        backend.delete_report(viewer, tenant, made["id"])
    name, media_type, content = backend.report_file(viewer, tenant, made["id"])
    assert name.endswith(".csv") and media_type.startswith("text/csv") and content
