"""Reports: generate one from a template (a form built from its parameters), list them,
preview the first pages of a PDF, download, delete. Viewers see, preview and download;
editors also generate and delete (the backend refuses anyway)."""

import base64
import json
from typing import Any

from nicegui import ui
from starlette.requests import Request
from starlette.responses import RedirectResponse

from ui.backend import Row, TenantChoice, UiBackend
from ui.components.context import PageContext, open_page
from ui.components.feedback import Failed, call, show_error
from ui.components.formatting import human_size
from ui.components.layout import NAV_ITEMS, NavItem, add_nav_item, frame
from ui.components.widgets import empty_state, no_workspace

REFRESH_S = 3.0
STATUS_COLORS = {
    "queued": "grey-7",
    "running": "blue-7",
    "succeeded": "positive",
    "failed": "negative",
}
# sources whose data may be pasted as JSON (rows from elsewhere) in place of a query
DATA_SOURCES = frozenset({"input", "run", "ask", "extraction"})


def register(backend: UiBackend) -> None:
    """Define /reports and its place in the navigation drawer."""
    if not any(item.path == "/reports" for item in NAV_ITEMS):  # pages may be registered again
        add_nav_item(
            NavItem("Reports", "summarize", "/reports", lambda ctx: ctx.tenant is not None)
        )

    @ui.page("/reports", title="Reports · Agent Appliance")
    def reports_page(request: Request, tenant: str = "") -> RedirectResponse | None:
        ctx = open_page(backend, request, tenant or None)
        if isinstance(ctx, RedirectResponse):
            return ctx
        with frame(ctx, "Reports", "/reports"):
            if ctx.tenant is None:
                no_workspace()
            elif not backend.reports_available():
                empty_state(
                    "summarize",
                    "Reports are not available",
                    "The report service is not running in this process.",
                )
            else:
                ReportsView(ctx, backend, ctx.tenant)
        return None


def _parameter_input(parameter: Row) -> Any:
    label = parameter.get("label") or parameter["name"]
    kind, default = parameter.get("type", "string"), parameter.get("default")
    if kind in ("integer", "number"):
        return ui.number(label, value=default, format="%.0f" if kind == "integer" else None)
    if kind == "boolean":
        return ui.checkbox(label, value=bool(default))
    if kind in ("json", "text", "document_ids"):
        text = json.dumps(default, indent=1) if kind == "json" and default is not None else ""
        hint = "comma-separated ids" if kind == "document_ids" else None
        return ui.textarea(
            label, value=text or (default if isinstance(default, str) else ""), placeholder=hint
        ).props("autogrow")
    return ui.input(label, value=default if isinstance(default, str) else "")


class ReportsView:
    def __init__(self, ctx: PageContext, backend: UiBackend, tenant: TenantChoice) -> None:
        self.ctx, self.backend, self.tenant = ctx, backend, tenant
        self.root = ui.context.client.content
        self.templates: list[Row] = self._load_templates()
        ui.label("Reports").classes("text-h5")
        if tenant.can_edit:
            self._generate_card()
        self.list = ui.column().classes("w-full gap-2").props("data-testid=report-list")
        self.rows: list[Row] = []
        self._show(self._load())
        ui.timer(REFRESH_S, self._refresh_if_busy)

    def _load_templates(self) -> list[Row]:
        try:
            return self.backend.report_templates(self.ctx.token, self.tenant.id)
        except Exception as exc:  # noqa: BLE001 - shown; the page still renders
            show_error(exc, "Loading templates")
            return []

    def _load(self) -> list[Row]:
        try:
            return self.backend.reports(self.ctx.token, self.tenant.id)
        except Exception as exc:  # noqa: BLE001 - shown; the page still renders
            show_error(exc, "Loading reports")
            return []

    # -- generate -----------------------------------------------------------------------
    def _generate_card(self) -> None:
        by_id = {t["id"]: t for t in self.templates}
        with ui.card().classes("w-full").props("flat bordered data-testid=generate-report"):
            ui.label("New report").classes("text-subtitle1 font-medium")
            with ui.row().classes("w-full items-end gap-4"):
                self.template = (
                    ui.select(
                        {t["id"]: t["title"] for t in self.templates},
                        label="Template",
                        on_change=lambda: self._form(by_id),
                    )
                    .classes("min-w-[16rem]")
                    .props("data-testid=report-template")
                )
                self.format = (
                    ui.select(
                        {"pdf": "PDF", "xlsx": "Excel (XLSX)", "csv": "CSV"},
                        value="pdf",
                        label="Format",
                    )
                    .classes("min-w-[10rem]")
                    .props("data-testid=report-format")
                )
            self.description = ui.label("").classes("opacity-70 text-body2")
            self.form = ui.column().classes("w-full gap-1")
            self.inputs: dict[str, Any] = {}
            self.data_input: Any = None
            ui.button("Generate", icon="play_arrow", on_click=self._generate).props(
                "data-testid=generate"
            )

    def _form(self, by_id: dict[str, Row]) -> None:
        template = by_id.get(self.template.value or "")
        self.form.clear()
        self.inputs, self.data_input = {}, None
        if template is None:
            return
        self.description.set_text(template.get("description", ""))
        self.format.set_options(
            {f: f.upper() for f in template.get("formats", ["pdf"])},
            value=template.get("formats", ["pdf"])[0],
        )
        with self.form:
            for parameter in template.get("parameters", []):
                self.inputs[parameter["name"]] = (parameter, _parameter_input(parameter))
            if template.get("source") in DATA_SOURCES:
                self.data_input = (
                    ui.textarea("Data (JSON: a list of rows, or an object of values and row lists)")
                    .classes("w-full")
                    .props("autogrow data-testid=report-data")
                )

    def _params(self) -> tuple[dict[str, Any], Any]:
        params: dict[str, Any] = {}
        for name, (parameter, widget) in self.inputs.items():
            value = widget.value
            if value in (None, ""):
                continue
            if parameter.get("type") == "json" and isinstance(value, str):
                value = json.loads(value)
            if parameter.get("type") == "integer":
                value = int(value)
            params[name] = value
        data = None
        if self.data_input is not None and (self.data_input.value or "").strip():
            data = json.loads(self.data_input.value)
        return params, data

    async def _generate(self) -> None:
        try:
            params, data = self._params()
        except ValueError:
            ui.notify("A JSON field is not valid JSON", type="negative")
            return
        made = await call(
            "Generating the report",
            self.backend.request_report,
            self.ctx.token,
            self.tenant.id,
            self.template.value or "",
            self.format.value or "pdf",
            params,
            data,
        )
        if not isinstance(made, Failed):
            ui.notify("Report queued; it appears below when it is ready.", type="positive")
            await self.reload()

    # -- list ---------------------------------------------------------------------------
    async def reload(self) -> None:
        found = await call("Loading reports", self.backend.reports, self.ctx.token, self.tenant.id)
        if not isinstance(found, Failed):
            self._show(found)

    async def _refresh_if_busy(self) -> None:
        if any(r["status"] in ("queued", "running") for r in self.rows):
            await self.reload()

    def _show(self, rows: list[Row]) -> None:
        self.rows = rows
        self.list.clear()
        with self.list:
            if not rows:
                empty_state(
                    "summarize",
                    "No reports yet",
                    "Generate one from a template above."
                    if self.tenant.can_edit
                    else "An editor of this workspace can generate reports.",
                )
            for row in rows:
                self._card(row)

    def _card(self, r: Row) -> None:
        with ui.card().classes("w-full gap-1").props(f"flat bordered data-testid=report-{r['id']}"):
            with ui.row().classes("w-full items-center justify-between"):
                with ui.row().classes("items-center gap-2"):
                    ui.icon("picture_as_pdf" if r["format"] == "pdf" else "table_view")
                    ui.label(r["title"] or r["template"]).classes("font-medium")
                    ui.badge(r["format"].upper(), color="primary")
                    ui.badge(r["status"], color=STATUS_COLORS.get(r["status"], "grey-7"))
                with ui.row().classes("gap-1"):
                    ready = r["status"] == "succeeded"
                    if ready and r["format"] == "pdf":
                        ui.button(
                            "Preview", icon="visibility", on_click=lambda r=r: self._preview(r)
                        ).props("flat dense data-testid=preview-report")
                    if ready:
                        ui.button(
                            "Download", icon="download", on_click=lambda r=r: self._download(r)
                        ).props("flat dense data-testid=download-report")
                    if self.tenant.can_edit:
                        ui.button(icon="delete", on_click=lambda r=r: self._delete(r)).props(
                            "flat dense color=negative aria-label='Delete report' "
                            "data-testid=delete-report"
                        )
            facts = [r["created_at"][:16].replace("T", " "), f"by {r['created_by']}"]
            if r.get("pages"):
                facts.append(f"{r['pages']} pages")
            if r.get("size"):
                facts.append(human_size(r["size"]))
            ui.label(" · ".join(facts)).classes("text-body2 opacity-70")
            if r.get("error"):
                ui.label(f"{r['error']['message']} ({r['error']['code']})").classes(
                    "text-negative text-body2"
                )

    async def _preview(self, r: Row) -> None:
        images = await call(
            "Preparing the preview",
            self.backend.report_preview,
            self.ctx.token,
            self.tenant.id,
            r["id"],
        )
        if isinstance(images, Failed):
            return
        with (
            self.root,
            ui.dialog() as dialog,
            ui.card().classes("max-w-none").props("data-testid=report-preview"),
        ):
            ui.label(r["title"]).classes("text-h6")
            with ui.row().classes("gap-4 no-wrap overflow-auto"):
                for number, png in enumerate(images, 1):
                    source = "data:image/png;base64," + base64.b64encode(png).decode()
                    ui.image(source).classes("w-[420px] border").props(f"alt='Page {number}'")
            ui.button("Close", on_click=dialog.close).props("flat")
        dialog.open()

    async def _download(self, r: Row) -> None:
        found = await call(
            "Downloading the report",
            self.backend.report_file,
            self.ctx.token,
            self.tenant.id,
            r["id"],
        )
        if not isinstance(found, Failed):
            name, media_type, content = found
            ui.download(content, name, media_type)

    def _delete(self, r: Row) -> None:
        with self.root, ui.dialog() as dialog, ui.card():
            ui.label(f"Delete the report {r['title']!r}?")

            async def confirm() -> None:
                dialog.close()
                done = await call(
                    "Deleting the report",
                    self.backend.delete_report,
                    self.ctx.token,
                    self.tenant.id,
                    r["id"],
                )
                if not isinstance(done, Failed):
                    await self.reload()

            with ui.row():
                ui.button("Delete", on_click=confirm).props(
                    "color=negative data-testid=confirm-delete"
                )
                ui.button("Cancel", on_click=dialog.close).props("flat")
        dialog.open()
