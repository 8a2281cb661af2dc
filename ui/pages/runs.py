"""Runs: a live list, and one run's timeline of steps updating without reload, each
step's output and error in plain words, with retry-from-failed and cancel buttons."""

from typing import Any

from nicegui import ui
from starlette.requests import Request
from starlette.responses import RedirectResponse

from ui.backend import TenantChoice, UiBackend
from ui.components.context import PageContext, open_page
from ui.components.feedback import Failed, call
from ui.components.layout import NavItem, add_nav_item, frame
from ui.components.widgets import empty_state
from ui.components.workflow_view import (
    STATUS_COLORS,
    STATUS_ICONS,
    error_words,
    mermaid_graph,
    output_words,
)

FINAL = ("succeeded", "failed", "cancelled")
REFRESH_S = 1.0


def _when(value: str | None) -> str:
    return value[:19].replace("T", " ") if value else "-"


def register(backend: UiBackend) -> None:
    """Define /runs and /runs/{run_id}."""
    add_nav_item(NavItem("Runs", "play_circle", "/runs", lambda c: c.tenant is not None))

    @ui.page("/runs", title="Runs · Agent Appliance")
    def runs_page(request: Request, tenant: str = "") -> RedirectResponse | None:
        ctx = open_page(backend, request, tenant or None)
        if isinstance(ctx, RedirectResponse):
            return ctx
        with frame(ctx, "Runs", "/runs"):
            if ctx.tenant is None or not backend.workflows_available():
                empty_state("play_circle", "Runs are not available", "")
            else:
                RunList(ctx, backend, ctx.tenant)
        return None

    @ui.page("/runs/{run_id}", title="Run · Agent Appliance")
    def run_page(request: Request, run_id: str) -> RedirectResponse | None:
        ctx = open_page(backend, request)
        if isinstance(ctx, RedirectResponse):
            return ctx
        with frame(ctx, "Run", "/runs"):
            if ctx.tenant is None or not backend.workflows_available():
                empty_state("play_circle", "Runs are not available", "")
            else:
                RunView(ctx, backend, ctx.tenant, run_id)
        return None


class RunList:
    def __init__(self, ctx: PageContext, backend: UiBackend, tenant: TenantChoice) -> None:
        self.ctx, self.backend, self.tenant = ctx, backend, tenant
        ui.label("Runs").classes("text-h5")
        columns = [
            {"name": "workflow", "label": "Workflow", "field": "workflow", "align": "left"},
            {"name": "status", "label": "Status", "field": "status", "align": "left"},
            {"name": "queued", "label": "Started", "field": "queued", "align": "left"},
            {"name": "duration", "label": "Took", "field": "duration", "align": "left"},
            {"name": "error", "label": "Problem", "field": "error", "align": "left"},
        ]
        self.table = (
            ui.table(columns=columns, rows=[], row_key="id")
            .classes("w-full")
            .props("flat bordered data-testid=runs-table")
        )
        self.table.on("rowClick", lambda e: ui.navigate.to(f"/runs/{e.args[1]['id']}"))
        ui.timer(0.05, self.refresh, once=True)
        ui.timer(2.0, self.refresh)

    async def refresh(self) -> None:
        runs = await call("Loading runs", self.backend.runs, self.ctx.token, self.tenant.id)
        if isinstance(runs, Failed):
            return
        self.table.rows = [
            {
                "id": r["id"],
                "workflow": r["workflow"],
                "status": r["status"],
                "queued": _when(r["queued_at"]),
                "duration": f"{r['duration_s']:.1f}s" if r["duration_s"] is not None else "",
                "error": (r["error"] or {}).get("message", ""),
            }
            for r in runs
        ]
        self.table.update()


class RunView:
    def __init__(
        self, ctx: PageContext, backend: UiBackend, tenant: TenantChoice, run_id: str
    ) -> None:
        self.ctx, self.backend, self.tenant, self.run_id = ctx, backend, tenant, run_id
        self.header = ui.row().classes("w-full items-center gap-3")
        with ui.row().classes("w-full no-wrap gap-4 items-start"):
            self.timeline = ui.column().classes("w-2/3 gap-2").props("data-testid=timeline")
            with ui.column().classes("w-1/3"):
                self.graph = ui.mermaid('graph TD\n  wait["..."]').classes("w-full")
        self.definition: dict[str, Any] | None = None
        self.seen: tuple[Any, ...] | None = None
        self.timer = ui.timer(REFRESH_S, self.refresh)
        ui.timer(0.05, self.refresh, once=True)

    async def refresh(self) -> None:
        run = await call(
            "Loading the run", self.backend.run, self.ctx.token, self.tenant.id, self.run_id
        )
        if isinstance(run, Failed):
            self.timer.deactivate()
            return
        if self.definition is None:
            workflow = await call(
                "Loading the workflow",
                self.backend.workflow,
                self.ctx.token,
                self.tenant.id,
                run["workflow_id"],
            )
            self.definition = {} if isinstance(workflow, Failed) else workflow["definition"]
        state = (
            run["status"],
            tuple((s["step_id"], s["item"], s["status"], s["attempts"]) for s in run["steps"]),
        )
        if state != self.seen:
            self.seen = state
            self._draw(run)
        if run["status"] in FINAL:
            self.timer.deactivate()

    def _draw(self, run: dict[str, Any]) -> None:
        self.header.clear()
        with self.header:
            ui.label(run["workflow"] or "run").classes("text-h5")
            ui.badge(run["status"], color=STATUS_COLORS.get(run["status"], "grey-7")).props(
                f"data-testid=run-status-{run['status']}"
            )
            ui.label(f"version {run['version']} · started {_when(run['queued_at'])}").classes(
                "opacity-70"
            )
            if self.tenant.can_edit:
                if run["status"] in ("failed", "cancelled"):
                    ui.button(
                        "Retry from failed step",
                        icon="replay",
                        on_click=lambda: self._retry("failed"),
                    ).props("data-testid=retry-failed")
                if run["status"] in FINAL:
                    ui.button(
                        "Run again", icon="restart_alt", on_click=lambda: self._retry("start")
                    ).props("flat")
                else:
                    ui.button("Cancel", icon="cancel", on_click=self._cancel).props(
                        "color=negative flat data-testid=cancel-run"
                    )
        if run["error"]:
            with self.header:
                ui.label(error_words(run["error"])).classes("w-full text-negative")
        self.timeline.clear()
        with self.timeline:
            if not run["steps"]:
                ui.label("Waiting for a worker …").classes("opacity-70")
            for step in run["steps"]:
                self._step(step)
        statuses = {s["step_id"]: s["status"] for s in run["steps"] if s["item"] is None}
        if self.definition:
            self.graph.set_content(mermaid_graph(self.definition, statuses))

    def _step(self, step: dict[str, Any]) -> None:
        name = step["step_id"] if step["item"] is None else f"{step['step_id']} #{step['item'] + 1}"
        status = step["status"]
        with ui.card().classes("w-full gap-1").props(f"flat bordered data-testid=step-{name}"):
            with ui.row().classes("items-center gap-2"):
                ui.icon(STATUS_ICONS.get(status, "circle")).classes(
                    f"text-{STATUS_COLORS.get(status, 'grey-7')} text-xl"
                )
                ui.label(name).classes("font-medium")
                ui.label(step["agent"]).classes("opacity-70")
                ui.badge(status, color=STATUS_COLORS.get(status, "grey-7"))
                took = f" in {step['duration_s']:.2f}s" if step["duration_s"] is not None else ""
                tries = (
                    f"attempt {step['attempts']} of {step['max_attempts']}"
                    if step["attempts"]
                    else ""
                )
                ui.label(f"{tries}{took}").classes("text-caption opacity-70")
            if status == "waiting" and step.get("wake_at"):
                ui.label(f"waiting until {_when(step['wake_at'])}").classes("text-caption")
            if step["error"]:
                ui.label(error_words(step["error"])).classes("text-negative")
            text = output_words(step["output"])
            if text:
                ui.label(text).classes("whitespace-pre-wrap text-body2").props(
                    "data-testid=step-output"
                )

    async def _retry(self, start_from: str) -> None:
        done = await call(
            "Retrying the run",
            self.backend.retry_run,
            self.ctx.token,
            self.tenant.id,
            self.run_id,
            start_from,
        )
        if not isinstance(done, Failed):
            self.timer.activate()
            await self.refresh()

    async def _cancel(self) -> None:
        done = await call(
            "Cancelling the run",
            self.backend.cancel_run,
            self.ctx.token,
            self.tenant.id,
            self.run_id,
        )
        if not isinstance(done, Failed):
            await self.refresh()
