"""Workflows: the list (trigger, last run, enable/disable, run with inputs) and the YAML
editor with inline validation errors and a drawing of the step graph."""

from typing import Any

from nicegui import ui
from starlette.requests import Request
from starlette.responses import RedirectResponse

from ui.backend import TenantChoice, UiBackend
from ui.components.context import PageContext, open_page
from ui.components.feedback import Failed, call, show_error
from ui.components.layout import NavItem, add_nav_item, frame
from ui.components.widgets import empty_state, no_workspace
from ui.components.workflow_view import STATUS_COLORS, mermaid_graph, trigger_words

NEW_WORKFLOW = """name: my-workflow
description: What this workflow does.
inputs:
  topic: {type: string, default: invoices}
steps:
  - id: found
    agent: search
    with: {query: "{{ inputs.topic }}", k: 5}
  - id: note
    agent: set
    needs: found
    with: {hits: "{{ steps.found.output.count }}"}
"""


def register(backend: UiBackend) -> None:
    """Define /workflows and /workflows/edit."""
    add_nav_item(NavItem("Workflows", "account_tree", "/workflows", lambda c: c.tenant is not None))

    @ui.page("/workflows", title="Workflows · Agent Appliance")
    def workflows_page(request: Request, tenant: str = "") -> RedirectResponse | None:
        ctx = open_page(backend, request, tenant or None)
        if isinstance(ctx, RedirectResponse):
            return ctx
        with frame(ctx, "Workflows", "/workflows"):
            if ctx.tenant is None:
                no_workspace()
            elif not backend.workflows_available():
                empty_state(
                    "account_tree",
                    "Workflows are not available",
                    "The workflow supervisor is not running.",
                )
            else:
                WorkflowList(ctx, backend, ctx.tenant)
        return None

    @ui.page("/workflows/edit", title="Edit workflow · Agent Appliance")
    def edit_page(request: Request, id: str = "") -> RedirectResponse | None:
        ctx = open_page(backend, request)
        if isinstance(ctx, RedirectResponse):
            return ctx
        with frame(ctx, "Edit workflow", "/workflows"):
            if ctx.tenant is None or not backend.workflows_available():
                empty_state("account_tree", "Workflows are not available", "")
            else:
                WorkflowEditor(ctx, backend, ctx.tenant, id or None)
        return None


class WorkflowList:
    def __init__(self, ctx: PageContext, backend: UiBackend, tenant: TenantChoice) -> None:
        self.ctx, self.backend, self.tenant = ctx, backend, tenant
        with ui.row().classes("w-full items-center justify-between"):
            ui.label("Workflows").classes("text-h5")
            if tenant.can_edit:
                ui.button(
                    "New workflow", icon="add", on_click=lambda: ui.navigate.to("/workflows/edit")
                ).props("data-testid=new-workflow")
        self.list = ui.column().classes("w-full gap-3")
        try:
            self._show(backend.workflows(ctx.token, tenant.id))
        except Exception as exc:  # noqa: BLE001 - shown; the page still renders
            show_error(exc, "Loading workflows")

    async def reload(self) -> None:
        found = await call(
            "Loading workflows", self.backend.workflows, self.ctx.token, self.tenant.id
        )
        if not isinstance(found, Failed):
            self._show(found)

    def _show(self, items: list[dict[str, Any]]) -> None:
        self.list.clear()
        with self.list:
            if not items:
                empty_state(
                    "account_tree",
                    "No workflows yet",
                    "A workflow chains steps: classify, extract, report, e-mail ...",
                )
            for item in items:
                self._card(item)

    def _card(self, item: dict[str, Any]) -> None:
        with (
            ui.card()
            .classes("w-full gap-1")
            .props(f"flat bordered data-testid=workflow-{item['name']}")
        ):
            with ui.row().classes("w-full items-center justify-between"):
                with ui.row().classes("items-center gap-2"):
                    ui.icon("account_tree").classes("text-xl")
                    ui.link(item["name"], f"/workflows/edit?id={item['id']}").classes(
                        "text-subtitle1 font-medium"
                    )
                    ui.badge(f"v{item['version']}", color="grey-7")
                    last = item.get("last_run")
                    if last:
                        ui.link(f"last run: {last['status']}", f"/runs/{last['id']}").classes(
                            f"text-{STATUS_COLORS.get(last['status'], 'grey-7')}"
                        )
                    else:
                        ui.label("never run").classes("opacity-60")
                if self.tenant.can_edit:
                    with ui.row().classes("items-center gap-1"):
                        ui.switch(
                            "triggers on",
                            value=item["enabled"],
                            on_change=lambda e, i=item: self._enable(i, e.value),
                        ).props("dense data-testid=enable-workflow")
                        ui.button(
                            "Run", icon="play_arrow", on_click=lambda i=item: self._run(i)
                        ).props("flat dense data-testid=run-workflow")
            if item.get("description"):
                ui.label(item["description"]).classes("opacity-80")
            ui.label(f"Starts on: {trigger_words(item['triggers'])}").classes("text-caption")

    async def _enable(self, item: dict[str, Any], enabled: bool) -> None:
        if item["enabled"] == enabled:
            return
        done = await call(
            "Changing the workflow",
            self.backend.set_workflow_enabled,
            self.ctx.token,
            self.tenant.id,
            item["id"],
            enabled,
        )
        if not isinstance(done, Failed):
            item["enabled"] = enabled
            ui.notify(f"{item['name']}: automatic triggers {'on' if enabled else 'off'}")

    async def _run(self, item: dict[str, Any]) -> None:
        detail = await call(
            "Loading the workflow",
            self.backend.workflow,
            self.ctx.token,
            self.tenant.id,
            item["id"],
        )
        if isinstance(detail, Failed):
            return
        inputs: dict[str, Any] = detail.get("inputs") or {}
        fields: dict[str, Any] = {}
        with ui.context.client.content, ui.dialog() as dialog, ui.card().classes("min-w-96"):
            ui.label(f"Run {item['name']}").classes("text-h6")
            if not inputs:
                ui.label("This workflow takes no inputs.").classes("opacity-70")
            for name, spec in inputs.items():
                default = spec.get("default")
                label = f"{name} ({spec.get('type', 'string')})"
                fields[name] = (
                    ui.input(label, value="" if default is None else str(default))
                    .props(f"data-testid=input-{name}")
                    .classes("w-full")
                )
                if spec.get("description"):
                    ui.label(spec["description"]).classes("text-caption opacity-70")

            async def start() -> None:
                values = {k: f.value for k, f in fields.items() if f.value != ""}
                run_id = await call(
                    "Starting the run",
                    self.backend.run_workflow,
                    self.ctx.token,
                    self.tenant.id,
                    item["id"],
                    values,
                )
                if not isinstance(run_id, Failed):
                    dialog.close()
                    ui.navigate.to(f"/runs/{run_id}")

            with ui.row().classes("w-full justify-end"):
                ui.button("Cancel", on_click=dialog.close).props("flat")
                ui.button("Start", icon="play_arrow", on_click=start).props("data-testid=start-run")
        dialog.open()


class WorkflowEditor:
    def __init__(
        self, ctx: PageContext, backend: UiBackend, tenant: TenantChoice, workflow_id: str | None
    ) -> None:
        self.ctx, self.backend, self.tenant, self.workflow_id = ctx, backend, tenant, workflow_id
        source = NEW_WORKFLOW
        title = "New workflow"
        if workflow_id:
            try:
                detail = backend.workflow(ctx.token, tenant.id, workflow_id)
                source, title = detail["source"], f"{detail['name']} (version {detail['version']})"
            except Exception as exc:  # noqa: BLE001 - shown; the page still renders
                show_error(exc, "Loading the workflow")
        # validate a moment after typing stops, not on every key
        self.timer = ui.timer(0.6, self.check, once=True, active=False)
        ui.label(title).classes("text-h5")
        with ui.row().classes("w-full no-wrap gap-4 items-start"):
            with ui.column().classes("w-1/2 gap-2"):
                self.editor = (
                    ui.codemirror(source, language="YAML")
                    .classes("w-full h-[60vh]")
                    .props("data-testid=workflow-source")
                )
                self.editor.on_value_change(lambda _: self.timer.activate())
                self.problems = ui.column().classes("w-full gap-1").props("data-testid=problems")
                with ui.row():
                    if tenant.can_edit:
                        ui.button("Save", icon="save", on_click=self.save).props(
                            "data-testid=save-workflow"
                        )
                    ui.button("Back", on_click=lambda: ui.navigate.to("/workflows")).props("flat")
            with ui.column().classes("w-1/2"):
                ui.label("Step graph").classes("text-subtitle1")
                self.graph = ui.mermaid('graph TD\n  empty["..."]').classes("w-full")
        ui.timer(0.1, self.check, once=True)

    async def check(self) -> None:
        result = await call(
            "Checking the workflow",
            self.backend.check_workflow,
            self.ctx.token,
            self.tenant.id,
            self.editor.value or "",
        )
        if isinstance(result, Failed):
            return
        self.problems.clear()
        with self.problems:
            if not result["problems"]:
                ui.label("No problems found.").classes("text-positive").props(
                    "data-testid=no-problems"
                )
            for problem in result["problems"]:
                where = []
                if problem.get("line"):
                    where.append(f"line {problem['line']}")
                if problem.get("step"):
                    where.append(f"step {problem['step']}")
                prefix = f"{', '.join(where)}: " if where else ""
                ui.label(f"{prefix}{problem['message']}").classes("text-negative").props(
                    "data-testid=problem"
                )
        if result["definition"]:
            self.graph.set_content(mermaid_graph(result["definition"]))

    async def save(self) -> None:
        saved = await call(
            "Saving the workflow",
            self.backend.save_workflow,
            self.ctx.token,
            self.tenant.id,
            self.workflow_id,
            self.editor.value or "",
        )
        if isinstance(saved, Failed):
            return
        ui.notify(f"Saved {saved['name']} as version {saved['version']}", type="positive")
        if not self.workflow_id:
            ui.navigate.to(f"/workflows/edit?id={saved['id']}")
