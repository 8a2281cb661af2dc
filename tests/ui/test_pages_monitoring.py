"""Monitoring and Logs pages with NiceGUI's simulated user: tenant-scoped, admins wider."""

import asyncio

import pytest

from agents.telemetry.activity_log import ActivityEntry, ActivityLog
from tests.ui.conftest import UiWorld, by_testid, has_testid, page_dump, simulated_user

pytestmark = pytest.mark.anyio


def _log(world: UiWorld, slug: str, *events: str) -> None:
    db = world.services.tenants.database(world.tenant_id(slug))
    ActivityLog(db).append_many(
        [
            ActivityEntry(
                at=f"2026-01-01T00:00:0{n}.000000Z",
                level="ERROR" if "failed" in e else "INFO",
                logger="appliance.test",
                event=e,
                agent="ingest",
                duration_ms=12.0,
            )
            for n, e in enumerate(events)
        ]
    )


async def test_logs_page_shows_the_tenants_own_entries_and_filters_them(world: UiWorld) -> None:
    # GIVEN activity in demo and in other
    _log(world, "demo", "demo parsed a file", "demo parse failed")
    _log(world, "other", "other tenant's secret event")
    async with simulated_user(world, session_of="vera") as user:
        # WHEN vera (viewer of demo) opens the Logs page
        await user.open("/logs")
        # THEN she sees demo's entries (table rows) and nothing of the other tenant
        for _ in range(30):
            if "demo parse failed" in page_dump(user):
                break
            await asyncio.sleep(0.1)
        assert "demo parse failed" in page_dump(user) and "demo parsed a file" in page_dump(user)
        assert "other tenant's secret event" not in page_dump(user)
        # AND no appliance-wide view is offered to a non-admin
        assert not has_testid(user, "logs-appliance")
        # WHEN she filters to errors
        by_testid(user, "logs-level").elements.pop().set_value("ERROR")  # type: ignore[attr-defined]
        by_testid(user, "logs-apply").click()
        for _ in range(30):
            if "demo parsed a file" not in page_dump(user):
                break
            await asyncio.sleep(0.1)
        # THEN only the failure is left
        dump = page_dump(user)
        assert "demo parse failed" in dump and "demo parsed a file" not in dump


async def test_monitoring_page_draws_live_charts_for_the_tenant(world: UiWorld) -> None:
    async with simulated_user(world, session_of="vera") as user:
        await user.open("/monitoring")
        await user.should_see("Live figures of workspace")
        # THEN the four charts are there and fill with series after two samples
        for name in ("chart-throughput", "chart-queue", "chart-latency", "chart-errors"):
            assert has_testid(user, name)
        chart = by_testid(user, "chart-queue").elements.pop()
        for _ in range(150):
            if chart.options["series"] and chart.options["xAxis"]["data"]:  # type: ignore[attr-defined]
                break
            await asyncio.sleep(0.1)
        names = {s["name"] for s in chart.options["series"]}  # type: ignore[attr-defined]
        assert names == {"queued tasks", "running tasks"}


async def test_admins_get_the_appliance_wide_views(world: UiWorld) -> None:
    async with simulated_user(world, session_of="admin") as user:
        await user.open("/monitoring?scope=appliance")
        await user.should_see("Live figures of the whole appliance")
        await user.open("/logs?scope=appliance")
        assert has_testid(user, "logs-table")


async def test_a_non_admin_asking_for_the_appliance_view_gets_the_tenant(world: UiWorld) -> None:
    async with simulated_user(world, session_of="vera") as user:
        await user.open("/monitoring?scope=appliance")
        await user.should_see("Live figures of workspace")
