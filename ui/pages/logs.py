"""Logs: a tenant's activity log (or, for admins, the appliance-wide log), with filters,
text search, older pages and a live follow mode."""

from typing import Any

from nicegui import ui
from starlette.requests import Request
from starlette.responses import RedirectResponse

from ui.backend import MonitoringBackend, UiBackend
from ui.components.context import PageContext, open_page
from ui.components.feedback import Failed, call
from ui.components.layout import NavItem, add_nav_item, frame
from ui.components.widgets import empty_state

FOLLOW_S = 2.0
PAGE = 100
LEVELS = ["", "DEBUG", "INFO", "WARNING", "ERROR"]
COLUMNS = [
    {"name": "at", "label": "Time", "field": "at", "align": "left"},
    {"name": "level", "label": "Level", "field": "level", "align": "left"},
    {"name": "agent", "label": "Agent", "field": "agent", "align": "left"},
    {"name": "event", "label": "Event", "field": "event", "align": "left"},
    {"name": "duration_ms", "label": "ms", "field": "duration_ms", "align": "right"},
    {"name": "ids", "label": "Request / run", "field": "ids", "align": "left"},
]


def _row(entry: dict[str, Any], number: int) -> dict[str, Any]:
    ids = " ".join(str(entry[k]) for k in ("request_id", "run_id", "step_id") if entry.get(k))
    return {
        "key": number,
        "at": str(entry.get("at") or entry.get("ts") or "")[:23].replace("T", " "),
        "level": entry.get("level", ""),
        "agent": entry.get("agent") or "",
        "event": entry.get("event", ""),
        "duration_ms": entry.get("duration_ms") or "",
        "ids": ids,
    }


def _view(ctx: PageContext, backend: MonitoringBackend, tenant_id: str | None) -> None:
    state: dict[str, Any] = {"cursor": None, "rows": []}
    with ui.row().classes("w-full items-end gap-2"):
        level = ui.select(LEVELS, label="At least", value="").classes("w-32")
        level.props("data-testid=logs-level")
        agent = ui.input("Agent").classes("w-32").props("data-testid=logs-agent")
        search = ui.input("Search").classes("flex-1").props("data-testid=logs-search clearable")
        since = ui.input("Since (15m, 2h, ISO time)").classes("w-48")
        ui.button("Apply", on_click=lambda: reload()).props("data-testid=logs-apply")
        follow = ui.switch("Follow live").props("data-testid=logs-follow")
    table = (
        ui.table(columns=COLUMNS, rows=[], row_key="key")
        .classes("w-full")
        .props(
            'dense flat data-testid=logs-table no-data-label="Nothing logged yet for these filters"'
        )
    )
    more = ui.button("Older entries", on_click=lambda: older()).props("flat")

    async def fetch(cursor: int | None) -> tuple[list[dict[str, Any]], int | None] | None:
        query = {
            "level": level.value or "",
            "agent": agent.value or "",
            "q": search.value or "",
            "since": since.value or "",
            "limit": str(PAGE),
            "cursor": str(cursor) if cursor else "",
        }
        result = await call("Reading the log", backend.logs, ctx.token, tenant_id, query)
        return None if isinstance(result, Failed) else result

    async def reload() -> None:
        result = await fetch(None)
        if result is None:
            return
        entries, state["cursor"] = result
        state["rows"] = [_row(e, n) for n, e in enumerate(entries)]
        table.rows = state["rows"]
        table.update()
        more.set_visibility(state["cursor"] is not None)

    async def older() -> None:
        result = await fetch(state["cursor"])
        if result is None:
            return
        entries, state["cursor"] = result
        start = len(state["rows"])
        state["rows"] += [_row(e, start + n) for n, e in enumerate(entries)]
        table.rows = state["rows"]
        table.update()
        more.set_visibility(state["cursor"] is not None)

    async def follow_tick() -> None:
        if follow.value:
            await reload()

    ui.timer(0.1, reload, once=True)
    ui.timer(FOLLOW_S, follow_tick)


def register(backend: UiBackend) -> None:
    """Define /logs."""
    add_nav_item(NavItem("Logs", "receipt_long", "/logs"))

    @ui.page("/logs", title="Logs · Agent Appliance")
    def logs_page(request: Request, scope: str = "tenant") -> RedirectResponse | None:
        ctx = open_page(backend, request)
        if isinstance(ctx, RedirectResponse):
            return ctx
        with frame(ctx, "Logs", "/logs"):
            ui.label("Logs").classes("text-h5").props("data-testid=logs-title")
            wide = scope == "appliance" and ctx.user.is_admin
            if ctx.user.is_admin:
                with ui.row().classes("gap-2"):
                    ui.link("This workspace", "/logs?scope=tenant")
                    ui.link("Whole appliance", "/logs?scope=appliance").props(
                        "data-testid=logs-appliance"
                    )
            if not wide and ctx.tenant is None:
                empty_state("receipt_long", "No workspace", "Join a workspace to see its log.")
                return None
            _view(ctx, backend, None if wide else ctx.tenant.id)  # type: ignore[union-attr]
        return None
